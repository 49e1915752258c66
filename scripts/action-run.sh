#!/usr/bin/env bash
# The step action.yml runs: layermap COMMAND PATH with the action's inputs (environment variables, never
# interpolated into the script, so a path or argument cannot inject shell code). Sets the step output
# exit-code and exits with layermap's code, so a failed gate fails the job.
set -uo pipefail
case ${LAYERMAP_COMMAND:-predict} in
    predict|build|image|render) ;;
    *) echo "layermap action: command must be predict, build, image or render, not '${LAYERMAP_COMMAND}'" >&2
       exit 2 ;;
esac
argv=(layermap "${LAYERMAP_COMMAND:-predict}" "${LAYERMAP_PATH:-.}" --format "${LAYERMAP_FORMAT:-table}")
argv+=(--fail-on "${LAYERMAP_FAIL_ON:-error}")
[ -n "${LAYERMAP_OUTPUT:-}" ] && argv+=(-o "$LAYERMAP_OUTPUT")
# Extra arguments are split like a shell would split words, without running anything.
if [ -n "${LAYERMAP_ARGS:-}" ]; then
    read -r -a extra <<<"$LAYERMAP_ARGS"
    argv+=("${extra[@]}")
fi
"${argv[@]}"
code=$?
[ -n "${GITHUB_OUTPUT:-}" ] && echo "exit-code=$code" >>"$GITHUB_OUTPUT"
exit $code

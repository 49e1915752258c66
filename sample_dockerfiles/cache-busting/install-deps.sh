#!/bin/sh
# Simulated dependency install: slow, and writes a vendor/ dir (256 KiB per dependency).
set -e
while read -r dep; do
    case $dep in ''|'#'*) continue ;; esac
    mkdir -p "vendor/$dep"
    dd if=/dev/urandom of="vendor/$dep/lib.bin" bs=64k count=4 2>/dev/null
    echo "installed $dep"
    sleep 1
done < requirements.txt

#!/bin/sh
# Stands in for a compiler: prints the "artifact".
echo "built in the multi-stage builder stage on $(uname -m)"

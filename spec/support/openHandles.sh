#!/usr/bin/env bash
# Runs every spec (after `npm run build`) and lists what each spec file left open; see
# spec/support/openHandleEnvironment.js. Exits with jest's status.
set -u
cd "$(dirname "$0")/../.."
notes=.tmp/open-handles.txt
mkdir -p .tmp && rm -f "$notes"
LOGGREGATOR_SPEC_HANDLES="$PWD/$notes" bash spec/support/jest.sh "$@"
status=$?
if grep -q 'left open\|still held' "$notes" 2>/dev/null; then echo "handles left open ($notes):"; cat "$notes"; else echo 'no spec file left a handle open'; cat "$notes" 2>/dev/null; fi
exit $status

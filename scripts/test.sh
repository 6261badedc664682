#!/usr/bin/env bash
# README command (2): install what the project needs, build twice (plain, and ASan+UBSan), and run the
# whole test suite (cmocka unit tests and integration scripts) in both. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
jobs=$(nproc)
for variant in release sanitize; do
  dir=build/$variant
  extra=()
  [ "$variant" = sanitize ] && extra=(-DSMX_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
  cmake -S . -B "$dir" -DCMAKE_C_COMPILER="${CC:-gcc}" "${extra[@]}" >/dev/null
  cmake --build "$dir" -j "$jobs"
  # Integration scripts need the real (non-sanitized) binaries' timing-insensitive behaviour only;
  # they run in both builds so leaks and UB on the real paths are caught too.
  (cd "$dir" && ctest --output-on-failure -j "$jobs")
done
echo "test.sh: all tests passed"

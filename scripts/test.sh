#!/usr/bin/env bash
# README command (2): install what the project needs, build twice (plain, and ASan+UBSan), and run the
# whole test suite (cmocka unit tests and integration scripts) in both. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh test
jobs=$(nproc)
for variant in release sanitize; do
  dir=build/$variant
  # gcc builds the release variant, clang the sanitized one: both must be warning-free (-Werror). Both
  # replay the fuzz corpora; the clang one also fuzzes each target for 30 s (SMX_FUZZ).
  if [ "$variant" = sanitize ]; then
    cmake -S . -B "$dir" -DCMAKE_C_COMPILER=clang -DSMX_SANITIZE=ON -DSMX_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
  else
    cmake -S . -B "$dir" -DCMAKE_C_COMPILER=gcc >/dev/null
  fi
  cmake --build "$dir" -j "$jobs"
  # Integration scripts run in both builds, so leaks and UB on the real AF_XDP paths are caught too.
  (cd "$dir" && ctest --output-on-failure -j "$jobs")
done
echo "test.sh: all tests passed"

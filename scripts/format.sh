#!/usr/bin/env bash
# The source style: .clang-format (Google's, 120 columns) over every C++ file git tracks.
#   bash scripts/format.sh           # reformat in place
#   bash scripts/format.sh --check   # list the files that are not formatted (and any line over 120
#                                    # columns clang-format cannot break); exit 1 if there are any
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
format=$(command -v clang-format-14 || command -v clang-format || true)
[[ -n $format ]] || { echo "format.sh: clang-format not found (scripts/setup.sh installs clang-format-14)" >&2; exit 2; }
mapfile -t files < <(git ls-files '*.cpp' '*.h')
if [[ ${1:-} != --check ]]; then
  "$format" -i "${files[@]}"
  exit 0
fi
status=0
for file in "${files[@]}"; do
  if ! "$format" "$file" | cmp -s - "$file"; then
    echo "format.sh: $file is not formatted (bash scripts/format.sh)"
    status=1
  fi
done
long=$(awk 'length($0) > 120 { print FILENAME ":" FNR ": " length($0) " columns" }' "${files[@]}")
if [[ -n $long ]]; then
  echo "$long" | sed 's/^/format.sh: over 120 columns: /'
  status=1
fi
exit "$status"

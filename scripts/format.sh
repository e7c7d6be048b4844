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
# Columns as clang-format counts them (LLVM's columnWidthUTF8): combining marks take none, East Asian
# wide characters two (the tests hold Chinese, Telugu, Thai and Arabic text).
long=$(python3 - "${files[@]}" <<'PYTHON'
import sys, unicodedata
def width(text):
    return sum(0 if unicodedata.category(c) in ("Mn", "Me", "Cf") else
               2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)
for name in sys.argv[1:]:
    with open(name, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            columns = width(line.rstrip("\n"))
            if columns > 120:
                print(f"{name}:{number}: {columns} columns")
PYTHON
)
if [[ -n $long ]]; then
  echo "$long" | sed 's/^/format.sh: over 120 columns: /'
  status=1
fi
exit "$status"

#!/usr/bin/env bash
# Print the path of a working Python X.Y interpreter, or nothing.
# With --explain, say instead how to get one. Looks in pyenv's versions, then on PATH.
set -u
want="$1"
if [ "${2:-}" = "--explain" ]; then
  cat >&2 <<MSG
error: Python $want was not found, and the project needs it.
  The app runs on Python 3.12; the Rasa server runs on Python 3.11 (DEVELOPERS.md, "Dependencies").
  Install it with pyenv:   pyenv install $want
  or with your system's packages (for example: apt-get install python$want python$want-venv),
  or point make at one:    make PYTHON${want/./}=/path/to/python$want ...
MSG
  exit 1
fi
works() { "$1" -c "import sys, venv; assert '%d.%d' % sys.version_info[:2] == '$want'" 2>/dev/null; }
root="${PYENV_ROOT:-$HOME/.pyenv}"
for dir in $(ls -d "$root"/versions/"$want".* 2>/dev/null | sort -V -r); do
  if works "$dir/bin/python"; then echo "$dir/bin/python"; exit 0; fi
done
# pyenv's shims exist for versions that are not selected, and then fail: test before use.
if path=$(command -v "python$want" 2>/dev/null) && works "$path"; then echo "$path"; exit 0; fi
exit 0

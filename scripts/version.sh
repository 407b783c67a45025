#!/usr/bin/env bash
# version.sh: the version make build and make package stamp, valid as it is
# as a .deb and an .rpm version (it starts with a digit and has no '-'):
#   on a tag vX.Y.Z                X.Y.Z
#   N commits after it             X.Y.Z+gitN.HASH    (sorts after X.Y.Z)
#   before any tag                 0.0.0+gitN.HASH    (N = all commits)
#   uncommitted changes            ... .dirty appended
#   a pre-release tag v1.2.3-rc1   1.2.3~rc1          (sorts before 1.2.3)
# Outside a git checkout: 0.0.0+unknown.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! hash=$(git rev-parse --short=12 HEAD 2>/dev/null); then
	echo 0.0.0+unknown
	exit 0
fi
if tag=$(git describe --tags --abbrev=0 --match 'v[0-9]*' 2>/dev/null); then
	base=${tag#v}
	n=$(git rev-list --count "$tag"..HEAD)
else
	base=0.0.0
	n=$(git rev-list --count HEAD)
fi
v=$base
if ((n > 0)) || [[ $base == 0.0.0 ]]; then
	v=$base+git$n.$hash
fi
if [[ -n $(git status --porcelain --untracked-files=no 2>/dev/null) ]]; then
	v=$v.dirty
fi
echo "${v//-/\~}"  # a pre-release tag v1.2.3-rc1: 1.2.3~rc1, before 1.2.3

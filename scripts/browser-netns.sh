# Sourced (not run) by scripts/media-chromium-test.sh and scripts/dc-chromium-soak.sh: the pair of
# network namespaces a browser test runs in, a peer's and the browser's, joined by a veth pair.
# Nothing leaves them.
#
#   browser_netns_up NSPEER NSWEB VPEER VWEB NET
#       NSPEER exists already (the caller's `ip netns add` is its test for root); makes NSWEB and
#       the veth pair VPEER (in NSPEER, NET.1/24) ↔ VWEB (in NSWEB, NET.2/24), lo up in both.
#       Chromium gathers host candidates only with a default route, so NSWEB gets one (to NSPEER,
#       which forwards nothing). Its DNS queries would then time out (~15 s per page load):
#       `ip netns exec` gives it /etc/netns/NSWEB/resolv.conf, a resolver on its own loopback
#       where nothing listens, so they fail at once.
#   browser_netns_down NSPEER NSWEB
#       kill -9 every process in them (all started by the caller), by pid; deletes both and
#       NSWEB's resolv.conf.

browser_netns_up() {
    local nspeer=$1 nsweb=$2 vpeer=$3 vweb=$4 net=$5 ns
    ip netns add "$nsweb"
    ip link add "$vpeer" type veth peer name "$vweb"
    ip link set "$vpeer" netns "$nspeer"
    ip link set "$vweb" netns "$nsweb"
    ip -n "$nspeer" addr add "$net.1/24" dev "$vpeer"
    ip -n "$nsweb" addr add "$net.2/24" dev "$vweb"
    for ns in "$nspeer" "$nsweb"; do ip -n "$ns" link set lo up; done
    ip -n "$nspeer" link set "$vpeer" up
    ip -n "$nsweb" link set "$vweb" up
    ip -n "$nsweb" route add default via "$net.1"
    mkdir -p "/etc/netns/$nsweb"
    echo "nameserver 127.0.0.1" >"/etc/netns/$nsweb/resolv.conf"
}

browser_netns_down() {
    local nspeer=$1 nsweb=$2 ns p
    for ns in "$nsweb" "$nspeer"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    done
    ip netns del "$nsweb" 2>/dev/null || true
    ip netns del "$nspeer" 2>/dev/null || true
    rm -rf "/etc/netns/$nsweb"
}

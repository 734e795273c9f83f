#!/usr/bin/env bash
# The network the NiceICE network tests build (NetworkLab.swift), as a script for manual debugging.
# The Swift tests do not call it; keep both in step.
#
#   topology.sh up   [PREFIX] [eim|symmetric]    build inet + one scene (k=1) and start coturn
#   topology.sh down [PREFIX]                    kill coturn, delete every namespace named PREFIX-*
#   topology.sh peers [PREFIX] [ICE-PEER]        run Interop/bridge.py with ice-peer in lan1/lan2
#
#   lan1 (10.1.0.2/24) -- nat1 (10.1.0.1 | 100.64.1.10) --+
#                                                          +- inet: bridge br0 = 100.64.0.0/16 with coturn on
#   lan2 (10.2.0.2/24) -- nat2 (10.2.0.1 | 100.64.1.20) --+        100.64.0.1, a peer address 100.64.0.2;
#                                                                  10/8, 172.16/12, 192.168/16 into a sink
#
# Public addresses live on br0, not lo: libnice 0.1.21 sets IP_UNICAST_IF to the interface holding
# the bound address, so a UDP agent bound to an address on lo would send everything into lo.
#
# NAT: MASQUERADE (Linux keeps the source port: endpoint-independent mapping, address-and-port
# dependent filtering), or MASQUERADE --random-fully (a new random port per destination: symmetric).
set -euo pipefail
cmd=${1:-up}
P=${2:-niceice-sh}
k=1
turnuser=alice:secret
realm=niceice.test

ns() { echo "$P-$1"; }
inet=$(ns inet)

up_inet() {
    ip netns add "$inet"
    ip -n "$inet" link set lo up
    ip -n "$inet" link add name br0 type bridge
    ip -n "$inet" link set br0 up
    ip -n "$inet" addr add 100.64.0.1/16 dev br0
    ip -n "$inet" addr add 100.64.0.2/16 dev br0
    ip netns exec "$inet" sysctl -qw net.ipv4.ip_forward=1
    ip netns exec "$inet" sysctl -qw net.ipv4.conf.all.send_redirects=0
    ip netns exec "$inet" sysctl -qw net.ipv4.conf.br0.send_redirects=0
    # Silent dead end for private ranges: a veth whose far end drops frames not addressed to it
    # (a 'blackhole' route would make coturn's sendto fail with EINVAL).
    ip -n "$inet" link add name sink0 type veth peer name sink1
    ip -n "$inet" link set sink0 up
    ip -n "$inet" link set sink1 up
    ip -n "$inet" addr add 192.0.2.1/30 dev sink0
    ip -n "$inet" neigh replace 192.0.2.2 lladdr 02:00:00:00:00:99 dev sink0 nud permanent
    for r in 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16; do ip -n "$inet" route add "$r" via 192.0.2.2 dev sink0; done
}

up_side() { # side(1|2) nat(eim|symmetric)
    local i=$1 mode=$2 lan nat pub
    lan=$(ns "$k-lan$i"); nat=$(ns "$k-nat$i"); pub="100.64.$k.$((10 * i))"
    ip netns add "$lan"; ip netns add "$nat"
    ip -n "$lan" link set lo up; ip -n "$nat" link set lo up
    ip -n "$nat" link add name lan0 type veth peer name eth0 netns "$lan"
    ip -n "$nat" link add name wan0 type veth peer name "s${k}n$i" netns "$inet"
    ip -n "$lan" addr add "10.$i.0.2/24" dev eth0
    ip -n "$lan" link set eth0 up
    ip -n "$lan" route add default via "10.$i.0.1"
    ip -n "$nat" addr add "10.$i.0.1/24" dev lan0
    ip -n "$nat" addr add "$pub/16" dev wan0
    ip -n "$nat" link set lan0 up; ip -n "$nat" link set wan0 up
    ip -n "$nat" route add default via 100.64.0.1
    ip netns exec "$nat" sysctl -qw net.ipv4.ip_forward=1
    ip -n "$inet" link set "s${k}n$i" master br0
    ip -n "$inet" link set "s${k}n$i" up
    # Unsolicited packets to the router are dropped before conntrack confirms them; otherwise a
    # peer's early check creates an entry whose reply tuple clashes with our later mapping and
    # MASQUERADE picks a new port (the mapping would look symmetric).
    ip netns exec "$nat" iptables -A INPUT -i wan0 -m conntrack --ctstate NEW -j DROP
    if [ "$mode" = symmetric ]; then
        ip netns exec "$nat" iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE --random-fully
    else
        ip netns exec "$nat" iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE
    fi
}

start_coturn() {
    local dir=/tmp/$P-coturn
    mkdir -p "$dir"
    cat >"$dir/turnserver.conf" <<EOF
listening-ip=100.64.0.1
relay-ip=100.64.0.1
listening-port=3478
min-port=49152
max-port=65535
lt-cred-mech
user=$turnuser
realm=$realm
no-tls
no-dtls
no-cli
no-stdout-log
simple-log
log-file=$dir/turn.log
pidfile=$dir/turnserver.pid
userdb=$dir/turndb
EOF
    ip netns exec "$inet" turnserver -c "$dir/turnserver.conf" >/dev/null 2>&1 &
    for _ in $(seq 50); do
        ip netns exec "$inet" ss -Hlun 'sport = :3478' | grep -q . && break
        sleep 0.1
    done
    echo "coturn pid $(cat "$dir/turnserver.pid" 2>/dev/null || echo '?'), log $dir/turn.log"
}

down() {
    local dir=/tmp/$P-coturn
    if [ -f "$dir/turnserver.pid" ]; then kill "$(cat "$dir/turnserver.pid")" 2>/dev/null || true; fi
    for n in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do ip netns del "$n"; done
}

case $cmd in
up)
    down
    up_inet
    up_side 1 "${3:-eim}"; up_side 2 "${3:-eim}"
    start_coturn
    ip netns list | grep "^$P-"
    ;;
down) down ;;
peers)
    peer=${3:-.build/debug/ice-peer}
    python3 "$(dirname "$0")/../../../Interop/bridge.py" --timeout 30 \
        --a "ip netns exec $(ns 1-lan1) $peer --bind 10.1.0.2 --stun 100.64.0.1:3478 ${TURN:+--turn 100.64.0.1:3478 --turn-user alice --turn-pass secret} ${RELAY:+--relay-only}" \
        --b "ip netns exec $(ns 1-lan2) $peer --bind 10.2.0.2 --stun 100.64.0.1:3478 ${TURN:+--turn 100.64.0.1:3478 --turn-user alice --turn-pass secret} ${RELAY:+--relay-only}"
    ;;
*) echo "usage: $0 up|down|peers [PREFIX] [eim|symmetric|ICE-PEER]" >&2; exit 2 ;;
esac

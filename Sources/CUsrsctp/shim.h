// CUsrsctp: the C surface NiceWebRTC uses from usrsctp 0.9.5 (Debian 12: libusrsctp-dev).
//
// Swift imports usrsctp's socket API directly (usrsctp_socket, usrsctp_sendv, usrsctp_recvv,
// usrsctp_conninput, the sysctl setters …). The shims below exist only where a C struct ends in a
// flexible array member, which Swift imports without the array: each builds or reads exactly one
// such struct, says which, and keeps no state. Everything else is called from
// Sources/NiceWebRTC/Binding/Usrsctp.swift, the one funnel for usrsctp calls.
#ifndef CNICE_USRSCTP_SHIM_H
#define CNICE_USRSCTP_SHIM_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <usrsctp.h>

/// Why: `struct sctp_reset_streams` ends in `srs_stream_list[]`. Resets one outgoing stream (RFC
/// 8831 §6.7: how a data channel is closed). Returns usrsctp_setsockopt's result; errno is set.
static inline int cnsctp_reset_outgoing_stream(struct socket *sock, uint16_t stream) {
    union {
        struct sctp_reset_streams srs;
        uint8_t bytes[sizeof(struct sctp_reset_streams) + sizeof(uint16_t)];
    } buffer;
    memset(&buffer, 0, sizeof(buffer));
    buffer.srs.srs_assoc_id = SCTP_ALL_ASSOC;
    buffer.srs.srs_flags = SCTP_STREAM_RESET_OUTGOING;
    buffer.srs.srs_number_streams = 1;
    buffer.srs.srs_stream_list[0] = stream;
    return usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_RESET_STREAMS, &buffer, (socklen_t)sizeof(buffer));
}

/// Why: `struct sctp_stream_reset_event` ends in `strreset_stream_list[]`. Returns how many stream
/// ids a stream-reset notification of `length` bytes (as received) carries, or -1 when the
/// notification's own length field disagrees with what arrived.
static inline int cnsctp_reset_event_count(const void *notification, size_t length) {
    const struct sctp_stream_reset_event *event = (const struct sctp_stream_reset_event *)notification;
    if (length < sizeof(*event) || event->strreset_length != length) return -1;
    return (int)((length - sizeof(*event)) / sizeof(uint16_t));
}

/// Why: as above; reads stream id `index` (< cnsctp_reset_event_count) of a stream-reset notification.
static inline uint16_t cnsctp_reset_event_stream(const void *notification, int index) {
    return ((const struct sctp_stream_reset_event *)notification)->strreset_stream_list[index];
}

/// Why: usrsctp.h exports neither the read-only socket option SCTP_GET_SNDBUF_USE (0x1101 in
/// usrsctp's netinet/sctp.h) nor `struct sctp_sockstat` { assoc id; total_sndbuf; … }, whose
/// second field is the association's `total_output_queue_size`. usrsctp's send buffer counts payload
/// bytes only, so a million empty messages fit in it; knowing when its queue is empty lets the
/// association cap how many messages it hands over (issue 17 §3). Returns the bytes usrsctp still
/// holds for the association (queued or unacknowledged), or -1 (errno set).
static inline long cnsctp_output_queue_bytes(struct socket *sock) {
    struct { uint32_t assoc_id; uint32_t total_sndbuf; uint32_t spare[4]; } stat;
    memset(&stat, 0, sizeof(stat));
    socklen_t length = (socklen_t)sizeof(stat);
    if (usrsctp_getsockopt(sock, IPPROTO_SCTP, 0x00001101, &stat, &length) != 0) return -1;
    return (long)stat.total_sndbuf;
}

#endif

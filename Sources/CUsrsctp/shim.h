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

#endif

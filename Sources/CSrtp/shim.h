// CSrtp: the C surface NiceWebRTC uses from libsrtp2 (Debian 12: libsrtp2-dev 2.5.0, built on NSS).
//
// Swift imports libsrtp's functions, enums and structs directly (srtp_init, srtp_create,
// srtp_protect, srtp_policy_t, ...). What it cannot import is wrapped below, one shim per
// construct, each saying why; no shim adds logic or state. Only Sources/NiceWebRTC/Binding/Srtp*.swift
// imports this module.
#ifndef CNICE_SRTP_SHIM_H
#define CNICE_SRTP_SHIM_H

#include <srtp2/srtp.h>

#endif

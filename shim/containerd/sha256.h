/* sha256: SHA-256 (FIPS 180-4), for the name of the shim's socket, which
 * containerd's shims derive from a digest of the address, namespace and
 * group (containerd's shim.SocketAddress). */
#ifndef SKIFF_SHIM_CONTAINERD_SHA256_H
#define SKIFF_SHIM_CONTAINERD_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

void sha256(const void *data, size_t len, uint8_t out[SHA256_LEN]);
/* The digest as 64 lowercase hex digits and a NUL. */
void sha256_hex(const void *data, size_t len, char out[2 * SHA256_LEN + 1]);

#endif

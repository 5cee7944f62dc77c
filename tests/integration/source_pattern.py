"""The bytes of porter's built-in source service (secondary/tcp/tcp_apps.c),
and a running check of a received stream against them."""

# byte i = (i*7 + (i>>8)*13 + (i>>16)) & 0xff. For i = 65536*k + j this is
# (P0[j] + k) & 0xff, with P0 the first 64 KiB: 256 distinct 64 KiB blocks.

_P0 = bytes(((j * 7 + (j >> 8) * 13) & 0xff) for j in range(65536))
_BLOCKS = {}


def pattern_block(k):
    k &= 0xff
    b = _BLOCKS.get(k)
    if b is None:
        b = _BLOCKS[k] = _P0.translate(bytes((x + k) & 0xff for x in range(256)))
    return b


def pattern(off, n):
    out = bytearray()
    while n > 0:
        k, j = divmod(off, 65536)
        take = min(n, 65536 - j)
        out += pattern_block(k)[j:j + take]
        off += take
        n -= take
    return bytes(out)


class PatternCheck:
    """Running comparison of a received stream with the source pattern."""

    def __init__(self):
        self.off = 0
        self.bad_at = None

    def feed(self, data):
        if self.bad_at is None and data != pattern(self.off, len(data)):
            exp = pattern(self.off, len(data))
            i = next(i for i in range(len(data)) if data[i] != exp[i])
            self.bad_at = self.off + i
        self.off += len(data)

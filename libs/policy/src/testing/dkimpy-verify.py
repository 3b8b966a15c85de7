# Independent verifier for the vector specs: Debian's python3-dkim (dkimpy), asking the
# loopback DNS server through dnspython. Usage: dkimpy-verify.py dkim|arc HOST PORT < message
# Prints one line: "dkim <index> pass|fail" per DKIM-Signature, or "arc <cv> <reason>".
import sys

import dkim
import dns.resolver

mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
resolver = dns.resolver.Resolver(configure=False)
resolver.nameservers = [host]
resolver.port = port
resolver.lifetime = 2


def txt(name, timeout=5):
    try:
        answer = resolver.resolve(name.decode() if isinstance(name, bytes) else name, 'TXT')
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return None
    return b''.join(answer[0].strings)


message = sys.stdin.buffer.read()
if mode == 'arc':
    cv, _results, reason = dkim.arc_verify(message, dnsfunc=txt)
    print('arc', cv.decode() if isinstance(cv, bytes) else cv, reason)
else:
    verifier = dkim.DKIM(message)
    count = len([h for h in verifier.headers if h[0].lower() == b'dkim-signature'])
    for index in range(count):
        try:
            ok = verifier.verify(idx=index, dnsfunc=txt)
        except dkim.DKIMException:  # e.g. ValidationError: body hash mismatch
            ok = False
        print('dkim', index, 'pass' if ok else 'fail')

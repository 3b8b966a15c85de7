# Independent verifier for the vector specs: Debian's python3-dkim (dkimpy), asking the
# loopback DNS server through dnspython. Usage: dkimpy-verify.py HOST PORT, then on stdin any
# number of requests "dkim|arc LENGTH\n" followed by LENGTH bytes of message; one line back per
# request: "pass fail ..." (each DKIM-Signature in header order) or the ARC chain status.
import sys

import dkim
import dns.resolver

resolver = dns.resolver.Resolver(configure=False)
resolver.nameservers = [sys.argv[1]]
resolver.port = int(sys.argv[2])
resolver.lifetime = 2


def txt(name, timeout=5):
    try:
        answer = resolver.resolve(name.decode() if isinstance(name, bytes) else name, 'TXT')
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return None
    return b''.join(answer[0].strings)


def verify_dkim(message):
    verifier = dkim.DKIM(message)
    count = len([h for h in verifier.headers if h[0].lower() == b'dkim-signature'])
    results = []
    for index in range(count):
        try:
            ok = verifier.verify(idx=index, dnsfunc=txt)
        except dkim.DKIMException:  # e.g. ValidationError: body hash mismatch
            ok = False
        results.append('pass' if ok else 'fail')
    return ' '.join(results)


def verify_arc(message):
    cv, _results, _reason = dkim.arc_verify(message, dnsfunc=txt)
    return cv.decode() if isinstance(cv, bytes) else str(cv)


stdin, stdout = sys.stdin.buffer, sys.stdout
while True:
    header = stdin.readline()
    if not header:
        break
    mode, length = header.split()
    message = stdin.read(int(length))
    stdout.write((verify_arc(message) if mode == b'arc' else verify_dkim(message)) + '\n')
    stdout.flush()

import { describe, expect, it } from 'vitest';
import { Srs } from './srs';

const DAY = 86_400_000;
const at = (days: number) => () => days * DAY + 3_600_000;
const srs = (now = at(20_000), secret = 'a secret of ours') =>
  new Srs({ secret, domain: 'fwd.example', now });

describe('SRS', () => {
  it('writes SRS0 with a 4-character hash and the day in base32, and reverses it', () => {
    const forwarded = srs().forward('Alice.Smith@Origin.example');
    // 20000 mod 1024 = 544 = 17*32 + 0 → "RA"
    expect(forwarded).toMatch(/^SRS0=[A-Za-z0-9+/]{4}=RA=origin\.example=Alice\.Smith@fwd\.example$/);
    expect(srs().reverse(forwarded)).toEqual({ ok: true, address: 'Alice.Smith@origin.example' });
    // A receiver that lower-cases the local part on the way back is still understood.
    expect(srs().reverse(forwarded.toLowerCase())).toEqual({
      ok: true,
      address: 'alice.smith@origin.example',
    });
  });

  it('refuses a changed field, another key, and a made-up hash as forged', () => {
    const forwarded = srs().forward('alice@origin.example');
    expect(srs().reverse(forwarded.replace('=alice@', '=mallory@'))).toEqual({ ok: false, error: 'forged' });
    expect(srs(at(20_000), 'another key').reverse(forwarded)).toEqual({ ok: false, error: 'forged' });
    expect(srs().reverse('SRS0=AAAA=RA=origin.example=alice@fwd.example')).toEqual({
      ok: false,
      error: 'forged',
    });
  });

  it('honours addresses up to 21 days old and refuses them at 22 (also across the 1024-day wrap)', () => {
    const made = srs(at(1020)).forward('alice@origin.example');
    expect(srs(at(1020 + 21)).reverse(made)).toEqual({ ok: true, address: 'alice@origin.example' });
    expect(srs(at(1020 + 22)).reverse(made)).toEqual({ ok: false, error: 'expired' });
  });

  it('leaves <>, our own SRS addresses and non-SRS addresses of other domains alone where it should', () => {
    const s = srs();
    expect(s.forward('')).toBe('');
    const ours = s.forward('alice@origin.example');
    expect(s.forward(ours)).toBe(ours);
    expect(s.reverse('alice@fwd.example')).toEqual({ ok: false, error: 'not-srs' });
    expect(s.reverse('SRS0=AAAA=RA=x=y@elsewhere.example')).toEqual({ ok: false, error: 'not-srs' });
    expect(s.reverse('SRS0=garbage@fwd.example')).toEqual({ ok: false, error: 'malformed' });
  });

  it("turns another forwarder's SRS0 into SRS1, whose reverse is that forwarder's address", () => {
    const theirs = 'SRS0=abcd=RA=origin.example=alice@first.example';
    const ours = srs().forward(theirs);
    expect(ours).toMatch(
      /^SRS1=[A-Za-z0-9+/]{4}=first\.example==abcd=RA=origin\.example=alice@fwd\.example$/,
    );
    expect(srs().reverse(ours)).toEqual({ ok: true, address: theirs });
    expect(srs().reverse(ours.replace('first.example', 'evil.example'))).toEqual({
      ok: false,
      error: 'forged',
    });
  });
});

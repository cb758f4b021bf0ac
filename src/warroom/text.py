"""The one sanitizer for untrusted strings.

Error messages, commit messages, status-page text and anything else that comes from outside the
console passes through :func:`clean` before it is shown, journaled or copied. The result is a plain
``str`` that holds no control characters, no terminal escape sequences and no bidirectional
overrides; the UI renders it as ``rich.text.Text`` (never as markup), so ``[bold]`` stays literal.

Secrets registered with :func:`register_secret` (the database password, say) are replaced by
``***`` wherever they appear, so a driver error that echoes a DSN cannot leak it.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, unquote

ELLIPSIS = "…"
MASK = "***"
# What clean() looks at when asked for no bound (max_len=None): nothing untrusted is unbounded.
HARD_MAX = 256 * 1024

# ESC-introduced sequences (7-bit) and their 8-bit C1 equivalents:
#   OSC/DCS/SOS/PM/APC strings run to BEL or ST (ESC \ or 0x9c), or to the end of the text;
#   CSI runs to its final byte; any other ESC takes one following character.
_ESCAPES = re.compile(
    r"""
    (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]) .*? (?:\x07|\x1b\\|\x9c|\Z)   # string sequences
  | (?:\x1b\[|\x9b) [\x20-\x3f]* [\x40-\x7e]?                            # CSI
  | \x1b [\x20-\x2f]* [\x30-\x7e]?                                       # nF / Fp / Fe / Fs
    """,
    re.VERBOSE | re.DOTALL,
)
# Explicit bidirectional formatting characters: they can make text render in another order
# than it is stored (CVE-2021-42574, "Trojan Source"). Right-to-left letters themselves stay.
_BIDI = dict.fromkeys([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)], None)
_SPACE_RUN = re.compile(r"[ \t]{2,}")

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(secret: str | None) -> None:
    """Mask ``secret`` in everything :func:`clean` returns from now on (ignores short values)."""
    if secret and len(secret) >= 3:
        with _secrets_lock:
            _secrets.add(secret)
            decoded = unquote(secret)
            if decoded != secret:
                _secrets.add(decoded)
            _secrets.add(quote(secret, safe=""))
            _secrets.add(quote_plus(secret, safe=""))


def unsafe_character(text: str) -> str | None:
    """The first character that must not reach a terminal from a configuration (``U+001B``):
    a control character, a bidirectional override, a lone surrogate; None when there is none."""
    for ch in text:
        if ch in "\n\t":
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cs") or ord(ch) in _BIDI:
            return f"U+{ord(ch):04X}"
    return None


def redact(text: str, secrets: Iterable[str] | None = None) -> str:
    """Replace every registered (or given) secret in ``text`` with ``***``."""
    with _secrets_lock:
        known = sorted(_secrets if secrets is None else set(secrets), key=len, reverse=True)
    for secret in known:
        if secret and secret in text:
            text = text.replace(secret, MASK)
    return text


def _char_ok(ch: str, keep_newlines: bool) -> str:
    if ch == "\n":
        return "\n" if keep_newlines else " "
    if ch == "\t":
        return "    " if keep_newlines else " "
    cat = unicodedata.category(ch)
    if cat == "Cc":  # C0, DEL and C1 controls
        return ""
    if cat == "Cs" or cat == "Co" or ch in "\ufffe\uffff":  # lone surrogates, private use, non-chars
        return "\ufffd"
    return ch


def clean(
    value: object,
    *,
    max_len: int | None = 500,
    multiline: bool = False,
) -> str:
    """Return ``value`` as inert, printable text.

    - bytes are decoded as UTF-8 with replacement characters;
    - escape sequences (CSI, OSC, DCS, ...), C0/C1 controls, DEL and bidi overrides are removed;
    - carriage returns and line feeds become spaces unless ``multiline`` (then CR is dropped);
    - registered secrets are masked;
    - the result is cut to ``max_len`` characters, ending in an ellipsis, when longer.

    The value is cut to a bound *before* it is cleaned (``max_len=None`` still stops at
    :data:`HARD_MAX` characters), so a 30 MB value costs what a short one does.
    """
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray | memoryview):
        limit = HARD_MAX if max_len is None else max_len * 4 + 4096
        text = bytes(value[: limit * 4]).decode("utf-8", errors="replace")
    else:
        text = str(value)
    # Cut before cleaning: the cost must not depend on the size of the value.
    scan = HARD_MAX if max_len is None else max_len * 4 + 4096
    if len(text) > scan:
        text = text[:scan]
    # Masked before cleaning too: a secret holding characters cleaning changes (a tab, two spaces)
    # would not be found in the cleaned text.
    text = redact(text)
    if "\x1b" in text or not text.isascii():  # every sequence starts with ESC or a C1 control
        text = _ESCAPES.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n" if multiline else " ")
    text = text.translate(_BIDI)
    if not (text.isascii() and text.isprintable()):  # printable ASCII (most text) needs no look
        text = "".join(_char_ok(ch, multiline) for ch in text)
    if not multiline:
        text = _SPACE_RUN.sub(" ", text).strip()
    text = redact(text)
    if max_len is not None and len(text) > max_len:
        text = text[: max(0, max_len - 1)].rstrip() + ELLIPSIS
    return text


FIRST_LINE_SCAN = 64 * 1024  # characters looked at for a first line (a value may be megabytes)


def first_line(value: object, max_len: int = 200) -> str:
    """The first non-empty line of ``value``, cleaned. Only the first :data:`FIRST_LINE_SCAN`
    characters are looked at, so the cost does not depend on the size of the value."""
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value[: FIRST_LINE_SCAN * 4]).decode("utf-8", errors="replace")
    text = str(value) if value is not None else ""
    text = clean(text[:FIRST_LINE_SCAN], max_len=FIRST_LINE_SCAN, multiline=True)
    for line in text.splitlines():
        if line.strip():
            return clean(line, max_len=max_len)
    return ""


def _url_userinfo(dsn: str) -> tuple[str, str, str] | None:
    """``(scheme://, userinfo, rest)`` of a URL DSN, splitting at the *last* ``@``.

    urlsplit ends the host part at the first ``/``, ``?`` or ``#``, so a password holding one of
    them unencoded (``s3cr/et``) would be read as part of the path and never masked; the last
    ``@`` is where the userinfo really ends.
    """
    head, sep, rest = dsn.partition("://")
    if not sep or "@" not in rest:
        return None
    userinfo, _, host = rest.rpartition("@")
    return head + sep, userinfo, host


# Any parameter whose name holds "password" (password, sslpassword, ...) is a secret.
_URL_SECRET_PARAM = re.compile(r"(?i)([?&][^=&#]*password=)[^&#]*")
_KEYWORD_SECRET = re.compile(r"(?i)(\b\w*password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)")


def mask_dsn(dsn: str | None) -> str:
    """A DSN with its password replaced by ``***`` (URL and ``key=value`` forms)."""
    if not dsn:
        return ""
    if "://" in dsn:
        parts = _url_userinfo(dsn)
        if parts is not None:
            head, userinfo, rest = parts
            if ":" in userinfo:
                dsn = f"{head}{userinfo.split(':', 1)[0]}:{MASK}@{rest}"
        return _URL_SECRET_PARAM.sub(r"\1" + MASK, dsn)
    return _KEYWORD_SECRET.sub(r"\1" + MASK, dsn)


def dsn_secrets(dsn: str | None) -> list[str]:
    """Every secret a DSN carries (its password, an ``sslpassword``...), to register them."""
    if not dsn:
        return []
    found: list[str] = []
    if "://" in dsn:
        parts = _url_userinfo(dsn)
        if parts is not None and ":" in parts[1]:
            password = parts[1].split(":", 1)[1]
            if password:
                found.append(unquote(password))
        found += [unquote(m.group(0).split("=", 1)[1]) for m in _URL_SECRET_PARAM.finditer(dsn)]
    else:
        for m in _KEYWORD_SECRET.finditer(dsn):
            value = m.group(2)
            if value.startswith("'"):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])  # libpq: \' and \\ inside quotes
            found.append(value)
    return [f for f in found if f]


def register_dsn(dsn: str | None) -> None:
    """Mask every secret ``dsn`` carries from now on."""
    for secret in dsn_secrets(dsn):
        register_secret(secret)


def dsn_password(dsn: str | None) -> str | None:
    """The password a DSN carries, if any (its first secret, see :func:`dsn_secrets`)."""
    secrets = dsn_secrets(dsn)
    return secrets[0] if secrets else None


def dsn_problem(dsn: str | None) -> str | None:
    """Why a URL DSN cannot be handed to a driver as it is, or None. A password with an unencoded
    ``/``, ``?``, ``#`` or ``@`` makes URL parsers read part of it as the host or path (and quote
    it back in their errors)."""
    if not dsn or "://" not in dsn:
        return None
    parts = _url_userinfo(dsn)
    if parts is None:
        return None
    password = parts[1].split(":", 1)[1] if ":" in parts[1] else ""
    if any(ch in password for ch in "/?#@"):
        return (
            "the DSN's password has an unencoded / ? # or @: percent-encode it "
            "(/ as %2F, ? as %3F, # as %23, @ as %40)"
        )
    return None


PHONE_SCAN = 256  # characters looked at, from the end of a phone number value


def mask_phone(value: object) -> str:
    """A phone number reduced to its last 4 digits: ``+1 (555) 010-4477`` -> ``***4477``.

    Only the digits count (spaces, dashes, ``+``, letters and control characters are dropped). A
    value with fewer than 4 digits is masked entirely (``***``); an empty value stays empty.
    """
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value[-PHONE_SCAN:]).decode("utf-8", errors="replace")
    raw = str(value) if value is not None else ""
    # Only the end matters (the last 4 digits): a 30 MB value costs the same as a short one.
    text = clean(raw[-PHONE_SCAN:], max_len=PHONE_SCAN)
    if not text:
        return ""
    digits = [ch for ch in text if ch.isascii() and ch.isdigit()]
    if len(digits) < 4:
        return MASK
    return MASK + "".join(digits[-4:])


_PHONE_IN_TEXT = re.compile(r"\+\d[\d ().-]{6,18}\d")


def mask_phones(text: str) -> str:
    """Phone numbers inside a message (Twilio: "The 'To' number +15550104477 is not valid")
    reduced to their last 4 digits, like the SMS pane's own phone column. Only ``+``-prefixed
    (E.164-style) numbers are touched, so dates, ids and error codes stay as they are."""
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), text)


def counted(n: int, word: str, plural: str | None = None) -> str:
    """``n`` and the word in its number: "1 event", "3 events", "2 criteria" (``plural`` given)."""
    return f"{n} {word if n == 1 else plural or word + 's'}"

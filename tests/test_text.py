"""The one sanitizer for untrusted strings, secret masking and DSN masking."""

from __future__ import annotations

import unicodedata
import uuid
from urllib.parse import quote, quote_plus

import pytest
from rich.console import Console
from rich.text import Text

from warroom.text import (
    ELLIPSIS,
    MASK,
    clean,
    dsn_password,
    first_line,
    mask_dsn,
    redact,
    register_secret,
)


def unique_secret(tag: str) -> str:
    """Secrets are process-wide: each test registers its own, so none masks another test's text."""
    return f"{tag}-{uuid.uuid4().hex[:12]}"


def assert_inert(text: str) -> None:
    """No control characters (C0, DEL, C1) and no bidi formatting characters remain."""
    for ch in text:
        assert unicodedata.category(ch) != "Cc", repr(text)
        assert ch not in "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069", repr(
            text
        )


# -- escape sequences ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # CSI: colours, cursor moves, screen clears, private modes, intermediate bytes.
        ("a\x1b[31mred\x1b[0m b", "ared b"),
        ("\x1b[2J\x1b[H\x1b[?1049h\x1b[?25lhidden", "hidden"),
        ("x\x1b[1;31;48;5;196my", "xy"),
        ("x\x1b[2 qy", "xy"),  # DECSCUSR: an intermediate byte
        # OSC, BEL-terminated and ST-terminated: window titles, hyperlinks, clipboard writes.
        ("x\x1b]0;pwned title\x07y", "xy"),
        ("x\x1b]2;title\x1b\\y", "xy"),
        ("\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\ here", "click here"),
        ("x\x1b]52;c;cm0gLXJmIH4=\x07y", "xy"),
        # DCS, APC, PM, SOS strings.
        ("x\x1bP1$r0m\x1b\\y", "xy"),
        ("x\x1b_kitty graphics payload\x1b\\y", "xy"),
        ("x\x1b^privacy message\x1b\\y", "xy"),
        ("x\x1bXstart of string\x1b\\y", "xy"),
        # 8-bit C1 forms: CSI, OSC ... ST, DCS ... ST, and lone C1 controls (NEL, IND).
        ("x\x9b31my", "xy"),
        ("x\x9d0;title\x9cy", "xy"),
        ("x\x9d0;title\x07y", "xy"),
        ("x\x90q#0;2;0;0;0\x9cy", "xy"),
        ("a\x85b\x84c", "abc"),
        # Two-character escapes: reset (RIS), save cursor, charset designation, keypad mode.
        ("x\x1bcy", "xy"),
        ("x\x1b7y\x1b8z", "xyz"),
        ("x\x1b(0y", "xy"),
        ("x\x1b=y", "xy"),
        # An unterminated string sequence swallows the rest, as a terminal would.
        ("visible\x1b]0;never ends", "visible"),
        ("a trailing ESC\x1b", "a trailing ESC"),
        ("a trailing CSI\x1b[", "a trailing CSI"),
    ],
)
def test_escape_sequences_are_removed(raw: str, expected: str) -> None:
    got = clean(raw)
    assert got == expected
    assert_inert(got)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ding\x07dong", "dingdong"),  # BEL
        ("abc\x08\x08\x08xyz", "abcxyz"),  # backspaces cannot overwrite
        ("progress 10%\rprogress 100%", "progress 10% progress 100%"),  # CR cannot overwrite
        ("del\x7fete", "delete"),
        ("nul\x00byte", "nulbyte"),
        ("vertical\x0btab\x0cfeed", "verticaltabfeed"),
        ("tab\tsep", "tab sep"),
        ("  many    spaces\n\nand lines  ", "many spaces and lines"),
    ],
)
def test_control_characters(raw: str, expected: str) -> None:
    assert clean(raw) == expected


def test_multiline_keeps_lines_but_not_carriage_returns() -> None:
    assert clean("one\r\ntwo\rthree\n\tfour\x1b[0m", multiline=True) == "one\ntwo\nthree\n    four"


def test_bidi_overrides_are_removed_but_rtl_letters_stay() -> None:
    # "Trojan Source": an RLO makes "txt.exe" display as "exe.txt".
    assert clean("invoice\u202etxt.exe") == "invoicetxt.exe"
    assert (
        clean("a\u2066b\u2067c\u2068d\u2069e\u202af\u202bg\u202ch\u202di\u200ej\u200fk\u061cl")
        == "abcdefghijkl"
    )
    hebrew_arabic = "שלום مرحبا"
    assert clean(hebrew_arabic) == hebrew_arabic


def test_lone_surrogates_private_use_and_noncharacters() -> None:
    assert clean("a\ud800b\udfffc") == "a\ufffdb\ufffdc"
    assert clean("p\ue000u\uffffx") == "p\ufffdu\ufffdx"
    got = clean("x\ud83dy")  # half an emoji
    got.encode("utf-8")  # encodable: no surrogate left
    assert got == "x\ufffdy"


def test_bytes_are_decoded_with_replacement() -> None:
    assert clean(b"caf\xc3\xa9 \xff\xfe \x1b[31mred") == "café \ufffd\ufffd red"
    assert clean(bytearray(b"ok")) == "ok"
    assert clean(memoryview(b"view")) == "view"


def test_other_values() -> None:
    assert clean(None) == ""
    assert clean(42) == "42"
    assert clean(ValueError("bad \x1b[1mthing\x1b[0m")) == "bad thing"
    assert clean("") == ""


def test_rich_markup_stays_literal() -> None:
    raw = "[bold red]not bold[/bold red] [link=https://evil.example]x[/link] :smile: \\[esc]"
    got = clean(raw)
    assert got == raw
    # Rendered as Text (never markup), the brackets print as typed.
    console = Console(width=200, color_system=None, record=True)
    console.print(Text(got))
    assert console.export_text().rstrip("\n") == raw


def test_ordinary_text_is_unchanged() -> None:
    for text in ('ERROR 42P01: relation "users" does not exist', "Zürich — 東京 — 🚨 P0", "a-b_c.d/e:f"):
        assert clean(text) == text


# -- length ------------------------------------------------------------------------------------


def test_cut_with_an_ellipsis() -> None:
    assert clean("x" * 10, max_len=10) == "x" * 10
    got = clean("x" * 11, max_len=10)
    assert got == "x" * 9 + ELLIPSIS and len(got) == 10
    assert clean("word " * 10, max_len=8) == "word wo" + ELLIPSIS
    assert clean("abc def", max_len=5) == "abc" + ELLIPSIS  # no trailing space before the ellipsis
    assert clean("y" * 5000, max_len=None) == "y" * 5000
    assert len(clean("z" * 5000)) == 500  # the default


def test_100_kb_input_is_cut() -> None:
    big = ("error: \x1b[31mboom\x1b[0m " * 5000)[:100_000]
    assert len(big) == 100_000
    got = clean(big)
    assert 490 <= len(got) <= 500 and got.endswith(ELLIPSIS)  # the cut drops a trailing space
    assert got.startswith("error: boom error: boom")
    assert_inert(got)


@pytest.mark.parametrize(
    "worst",
    [
        "\x1b]" * 50_000,  # string sequences that never end
        "\x1b[" * 50_000,
        "\x1b" * 100_000,
        "\x9d" * 100_000,
        "[" * 100_000,
        "\x1b[" + "0;" * 50_000,
        "\u202e\ud800" * 50_000,
    ],
    ids=["osc", "csi", "esc", "c1-osc", "brackets", "csi-params", "bidi-surrogates"],
)
def test_100_kb_of_hostile_input(worst: str) -> None:
    got = clean(worst)
    assert len(got) <= 500
    assert_inert(got)
    assert len(clean(worst, max_len=None, multiline=True)) <= len(worst)


def test_work_is_bounded_by_the_cut() -> None:
    """Only a bounded prefix is scrubbed: what lies far beyond the cut cannot change the result."""
    head = "h" * 10_000
    assert clean(head + "\x1b]0;" + "tail" * 25_000) == clean(head + "other" * 20_000)
    assert clean(head + "\x1b]0;" + "tail" * 25_000, max_len=20) == "h" * 19 + ELLIPSIS


# -- first_line ----------------------------------------------------------------------------------


def test_first_line() -> None:
    assert first_line("\n  \n  connection refused\x1b[0m\nDETAIL: more") == "connection refused"
    assert first_line("") == ""
    assert first_line("\n\n") == ""
    assert first_line("a" * 300) == "a" * 199 + ELLIPSIS
    assert first_line("x\r\ny") == "x"


# -- secrets ---------------------------------------------------------------------------------------


def test_registered_secret_is_masked() -> None:
    secret = unique_secret("Hunter2")
    register_secret(secret)
    assert clean(f'FATAL: password authentication failed for "{secret}"') == (
        'FATAL: password authentication failed for "***"'
    )
    assert clean(f"{secret}{secret}") == MASK + MASK
    assert redact(f"a {secret} b") == f"a {MASK} b"


def test_url_encoded_forms_are_masked() -> None:
    secret = unique_secret("p@ss w/rd:&+%")
    register_secret(secret)
    for form in (secret, quote(secret, safe=""), quote_plus(secret, safe="")):
        assert clean(f"dsn=postgresql://u:{form}@db/app") == f"dsn=postgresql://u:{MASK}@db/app", form
    # Registered in its encoded form (as a URL carries it): the decoded form is masked too.
    encoded = quote(unique_secret("x y@z"), safe="")
    register_secret(encoded)
    from urllib.parse import unquote

    assert clean(f"pw={unquote(encoded)}") == f"pw={MASK}"


def test_secret_split_or_changed_by_cleaning_is_still_masked() -> None:
    secret = unique_secret("two  spaces\tand tab")
    register_secret(secret)
    assert clean(f"[{secret}]") == f"[{MASK}]"
    plain = unique_secret("Plain")
    register_secret(plain)
    cut = plain[:5] + "\x1b[0m" + plain[5:]
    assert clean(f"x {cut} y") == f"x {MASK} y"


def test_short_and_empty_secrets_are_ignored() -> None:
    register_secret("ab")
    register_secret("")
    register_secret(None)
    assert clean("ab cd ab") == "ab cd ab"


def test_redact_with_given_secrets_longest_first() -> None:
    assert redact("token abc and abcdef", ["abc", "abcdef"]) == f"token {MASK} and {MASK}"


# -- DSNs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dsn", "masked", "password"),
    [
        (
            "postgresql://watcher:s3cret@db.internal:5432/app",
            "postgresql://watcher:***@db.internal:5432/app",
            "s3cret",
        ),
        ("postgres://u:p%40ss%3Aw@h/db?sslmode=require", "postgres://u:***@h/db?sslmode=require", "p@ss:w"),
        ("postgresql://u:p@ss@h/db", "postgresql://u:***@h/db", "p@ss"),  # an unencoded @
        (
            "postgresql://h/db?user=u&password=qs-pw&sslmode=verify-full",
            "postgresql://h/db?user=u&password=***&sslmode=verify-full",
            "qs-pw",
        ),
        ("postgresql://u@h/db", "postgresql://u@h/db", None),
        ("postgresql://h/db", "postgresql://h/db", None),
        (
            "postgresql://u:pw1@[::1/db",
            "postgresql://u:***@[::1/db",
            "pw1",
        ),  # malformed host: password masked
        ("host=db user=u password=kv-pw dbname=app", "host=db user=u password=*** dbname=app", "kv-pw"),
        ("host=db password = 'with space' dbname=app", "host=db password = *** dbname=app", "with space"),
        ("host=db password='it\\'s \\\\ x' dbname=app", "host=db password=*** dbname=app", "it's \\ x"),
        ("host=db PASSWORD=upper", "host=db PASSWORD=***", "upper"),
        ("host=db user=u dbname=app", "host=db user=u dbname=app", None),
        ("", "", None),
        (None, "", None),
    ],
)
def test_mask_dsn_and_dsn_password(dsn: str | None, masked: str, password: str | None) -> None:
    assert mask_dsn(dsn) == masked
    assert dsn_password(dsn) == password
    if password:
        assert password not in mask_dsn(dsn)


def test_a_password_with_unencoded_url_characters_is_still_masked() -> None:
    from warroom.text import dsn_problem

    for dsn, password in [
        ("postgresql://app:s3cr3t/Xy9@db.example:5432/postgres", "s3cr3t/Xy9"),
        ("postgresql://app:a?b#c@db.example/postgres", "a?b#c"),
        ("postgresql://app:x@y@db.example/postgres", "x@y"),
    ]:
        masked = mask_dsn(dsn)
        assert password not in masked and "s3cr" not in masked, masked
        assert masked.startswith("postgresql://app:***@db.example")
        assert dsn_password(dsn) == password
        assert dsn_problem(dsn) is not None and "percent-encode" in dsn_problem(dsn)
    assert dsn_problem("postgresql://app:s3cr%2Fet@db/x") is None
    assert dsn_password("postgresql://app:s3cr%2Fet@db/x") == "s3cr/et"


def test_phone_numbers_inside_messages_are_masked() -> None:
    from warroom.text import mask_phones

    text = (
        "21211: The 'To' number +15550104477 is not valid; POST /2010-04-01/Accounts; call +1 (555) 010-9999"
    )
    assert (
        mask_phones(text)
        == "21211: The 'To' number ***4477 is not valid; POST /2010-04-01/Accounts; call ***9999"
    )
    assert mask_phones("no numbers here, 30003 and 2026-11-26") == "no numbers here, 30003 and 2026-11-26"

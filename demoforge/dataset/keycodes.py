"""Legacy ``keyCode``/``charCode`` pairs to modern ``KeyboardEvent.key``/``code``.

Recordings made before browsers agreed on ``key`` and ``code`` (the MiniWoB++
demonstrations, 2017) carry only the numeric ``keyCode`` of keydown/keyup and
the ``charCode`` of keypress. The schema speaks ``key``/``code`` like the live
recorder does, so the importer translates here, assuming the US layout the
crowd workers' browsers reported. Shift changes ``key`` (``a``→``A``,
``1``→``!``) but never ``code``.
"""

from __future__ import annotations

import string

_NAMED: dict[int, tuple[str, str | None]] = {
    8: ("Backspace", "Backspace"),
    9: ("Tab", "Tab"),
    13: ("Enter", "Enter"),
    16: ("Shift", "ShiftLeft"),
    17: ("Control", "ControlLeft"),
    18: ("Alt", "AltLeft"),
    19: ("Pause", "Pause"),
    20: ("CapsLock", "CapsLock"),
    27: ("Escape", "Escape"),
    32: (" ", "Space"),
    33: ("PageUp", "PageUp"),
    34: ("PageDown", "PageDown"),
    35: ("End", "End"),
    36: ("Home", "Home"),
    37: ("ArrowLeft", "ArrowLeft"),
    38: ("ArrowUp", "ArrowUp"),
    39: ("ArrowRight", "ArrowRight"),
    40: ("ArrowDown", "ArrowDown"),
    45: ("Insert", "Insert"),
    46: ("Delete", "Delete"),
    91: ("Meta", "MetaLeft"),
    92: ("Meta", "MetaRight"),
    93: ("ContextMenu", "ContextMenu"),
    224: ("Meta", "MetaLeft"),
    229: ("Process", None),  # an input method is composing: the text arrives as input
}

#: Punctuation keys: keyCode -> (unshifted, shifted, code). 59/61/173 are Firefox's codes.
_PUNCTUATION: dict[int, tuple[str, str, str]] = {
    186: (";", ":", "Semicolon"),
    59: (";", ":", "Semicolon"),
    187: ("=", "+", "Equal"),
    61: ("=", "+", "Equal"),
    188: (",", "<", "Comma"),
    189: ("-", "_", "Minus"),
    173: ("-", "_", "Minus"),
    190: (".", ">", "Period"),
    191: ("/", "?", "Slash"),
    192: ("`", "~", "Backquote"),
    219: ("[", "{", "BracketLeft"),
    220: ("\\", "|", "Backslash"),
    221: ("]", "}", "BracketRight"),
    222: ("'", '"', "Quote"),
}

_NUMPAD_OPS: dict[int, tuple[str, str]] = {
    106: ("*", "NumpadMultiply"),
    107: ("+", "NumpadAdd"),
    109: ("-", "NumpadSubtract"),
    110: (".", "NumpadDecimal"),
    111: ("/", "NumpadDivide"),
}

_SHIFTED_DIGITS = ")!@#$%^&*("

#: keyCodes of the modifier keys, by the ``Modifiers`` field they set.
MODIFIER_KEYCODES: dict[int, str] = {
    16: "shift",
    17: "ctrl",
    18: "alt",
    91: "meta",
    92: "meta",
    224: "meta",
}


def key_and_code(key_code: int, shift: bool = False) -> tuple[str, str | None]:
    """``(key, code)`` for a keydown/keyup ``keyCode`` with Shift held or not."""
    if 65 <= key_code <= 90:
        letter = chr(key_code)
        return (letter if shift else letter.lower()), f"Key{letter}"
    if 48 <= key_code <= 57:
        digit = key_code - 48
        return (_SHIFTED_DIGITS[digit] if shift else str(digit)), f"Digit{digit}"
    if 96 <= key_code <= 105:
        return str(key_code - 96), f"Numpad{key_code - 96}"
    if 112 <= key_code <= 123:
        return f"F{key_code - 111}", f"F{key_code - 111}"
    if key_code in _NAMED:
        return _NAMED[key_code]
    if key_code in _PUNCTUATION:
        plain, shifted, code = _PUNCTUATION[key_code]
        return (shifted if shift else plain), code
    if key_code in _NUMPAD_OPS:
        return _NUMPAD_OPS[key_code]
    return "Unidentified", None


def key_from_char_code(char_code: int) -> str | None:
    """The character a keypress produced, or None for control characters
    (Enter's keypress carries 13: its ``key`` stays "Enter")."""
    if char_code < 32 or char_code == 127:
        return None
    char = chr(char_code)
    return char if char.isprintable() or char in string.whitespace else None

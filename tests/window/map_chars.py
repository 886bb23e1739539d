#!/usr/bin/env python3
"""Maps every non-ASCII character of argv[1] to a spare key of the X keyboard ($DISPLAY), so that
`xdotool type` finds it in the keymap instead of remapping a scratch key for each character (an
X client reads a key with the mapping of the moment: characters typed back to back then come out as
each other's, or as nothing). Uses only libX11 through ctypes."""
import ctypes
import sys

x = ctypes.cdll.LoadLibrary("libX11.so.6")
x.XOpenDisplay.restype = ctypes.c_void_p
x.XGetKeyboardMapping.restype = ctypes.POINTER(ctypes.c_ulong)
d = ctypes.c_void_p(x.XOpenDisplay(None))
if not d.value:
    sys.exit("map_chars: cannot open the display")
lo, hi = ctypes.c_int(), ctypes.c_int()
x.XDisplayKeycodes(d, ctypes.byref(lo), ctypes.byref(hi))
count = hi.value - lo.value + 1
per = ctypes.c_int()
m = x.XGetKeyboardMapping(d, ctypes.c_ubyte(lo.value), count, ctypes.byref(per))
spare = [lo.value + k for k in range(count) if all(m[k * per.value + s] == 0 for s in range(per.value))]
chars = sorted({c for c in sys.argv[1] if ord(c) > 127})
if len(chars) > len(spare):
    sys.exit("map_chars: %d characters, %d spare keys" % (len(chars), len(spare)))
for c in chars:
    keysym = ord(c) if ord(c) <= 0xFF else 0x1000000 + ord(c)
    syms = (ctypes.c_ulong * 2)(keysym, keysym)
    x.XChangeKeyboardMapping(d, spare.pop(), 2, syms, 1)
x.XSync(d, 0)
x.XCloseDisplay(d)

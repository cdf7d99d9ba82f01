#!/usr/bin/env python3
"""Checks roms/include/virt.h against the register tables of docs/virt.md.

For every register row of docs/virt.md (`| offset | NAME | ...`) the macro
VIRT_NAME must equal the documented byte offset from its device's base (ICU
rows give absolute addresses; timer channel rows give 0x20 + 0x20*c + k, of
which k is the offset inside a channel), and every device base of the memory
map must equal VIRT_<DEVICE>_BASE. Needs python3 and a host C compiler (cc),
not the cross toolchain. Exit status 0 when everything agrees.
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "virt.md")
HEADER_DIR = os.path.join(ROOT, "roms", "include")

ICU_BASE = 0xFFFC00
BASES = {  # memory-map description (start of the cell) -> macro
    "sysctl": "VIRT_SYSCTL_BASE", "UART0": "VIRT_UART0_BASE", "UART1": "VIRT_UART1_BASE",
    "timer": "VIRT_TIMER_BASE", "RTC": "VIRT_RTC_BASE", "watchdog": "VIRT_WDT_BASE",
    "flash controller": "VIRT_FLASHCTL_BASE", "keyboard": "VIRT_KBD_BASE",
    "display controller": "VIRT_DISPLAY_BASE",
    "ICU": "VIRT_ICU_BASE", "flash": "VIRT_FLASH_BASE",
}


def documented_values():
    """Returns {macro: expected value} read from docs/virt.md."""
    expected = {}
    row = re.compile(r"^\| (0x[0-9A-Fa-f]+)[^|]*\| ([A-Z][A-Z0-9_]+)[^|]*\|")
    base_row = re.compile(r"^\| (0x[0-9A-Fa-f]+) – 0x[0-9A-Fa-f]+ \| [^|]+\| ([^|]+)\|")
    with open(DOC, encoding="utf-8") as doc:
        for line in doc:
            m = base_row.match(line)
            if m:
                what = m.group(2).strip()
                for prefix, macro in BASES.items():
                    if what.startswith(prefix):
                        expected[macro] = int(m.group(1), 16)
                        break
                continue
            m = row.match(line)
            if not m:
                continue
            value, name = int(m.group(1), 16), m.group(2)
            if name.startswith("ICU_PRIO"):
                expected["VIRT_ICU_PRIO(0)"] = value - ICU_BASE
            elif name.startswith("ICU_"):
                expected["VIRT_" + name] = value - ICU_BASE
            elif name.startswith("TIMER_CH_"):
                expected["VIRT_" + name] = value - 0x20
                expected["VIRT_TIMER_CH_BASE(1)"] = 0x40
            else:
                expected["VIRT_" + name] = value
    return expected


def header_values(names):
    """Evaluates the macros with the host C compiler."""
    lines = ['#include <stdio.h>', '#include "virt.h"', "int main(void) {"]
    for name in names:
        lines.append('  printf("%%s %%lu\\n", "%s", (unsigned long)(%s));' % (name, name))
    lines.append("  return 0;\n}")
    with tempfile.TemporaryDirectory() as tmp:
        source, program = os.path.join(tmp, "t.c"), os.path.join(tmp, "t")
        with open(source, "w") as f:
            f.write("\n".join(lines))
        subprocess.run(["cc", "-I", HEADER_DIR, source, "-o", program], check=True)
        out = subprocess.run([program], check=True, capture_output=True, text=True).stdout
    return {n: int(v) for n, v in (l.rsplit(" ", 1) for l in out.splitlines())}


def main():
    expected = documented_values()
    actual = header_values(sorted(expected))
    bad = [n for n in sorted(expected) if actual[n] != expected[n]]
    for name in bad:
        print("mismatch: %s is 0x%X in virt.h, 0x%X in docs/virt.md" % (name, actual[name], expected[name]))
    print("%d values checked, %d mismatches" % (len(expected), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

"""Native stage: loading a cached object file (x86-64 ELF, relocatable) into memory without LLVM.

A warm start needs no compiler: engine.py's cache holds the object files LLVM emitted for our modules, and
linking one is a small, closed job. Its allocated sections are laid out in one anonymous mapping (code first,
then data, each at its alignment), relocated, and the code pages made read+execute. Our objects use the large
code model (every reference an absolute 64-bit address, R_X86_64_64; unwind tables add PC-relative ones), and
call only the C library functions engine.py binds (`azlang_libm_*`) and the process's memcpy and memset: the
same addresses LLVM's MCJIT would write, so the loaded code is the same instructions with the same targets.

Anything outside that closed set (another machine or relocation type, common symbols, constructors, an
unresolved name) raises Unsupported before any memory is touched, and the caller loads the object through LLVM
instead, as before.
"""

from __future__ import annotations

import ctypes
import mmap
import struct
import sys

_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
_SHDR = struct.Struct("<IIQQQQIIQQ")
_SYM = struct.Struct("<IBBHQQ")
_RELA = struct.Struct("<QQq")

ET_REL, EM_X86_64 = 1, 62
SHT_PROGBITS, SHT_SYMTAB, SHT_RELA, SHT_NOTE, SHT_NOBITS, SHT_REL = 1, 2, 4, 7, 8, 9
SHT_X86_64_UNWIND = 0x70000001
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 0x1, 0x2, 0x4
SHN_UNDEF, SHN_LORESERVE, SHN_ABS = 0, 0xFF00, 0xFFF1
STB_WEAK = 2
R_X86_64_NONE, R_X86_64_64, R_X86_64_PC32, R_X86_64_PLT32, R_X86_64_PC64 = 0, 1, 2, 4, 24

PAGE = mmap.PAGESIZE
MAX_BYTES = 1 << 28  # far above any module we emit (the largest is well under 1 MiB)
_MAPPINGS: list = []  # loaded code lives as long as the process (as in LLVM's engine): never unmapped


class Unsupported(Exception):
    """The object is not one this loader links (the caller falls back to LLVM)."""


class _Section:
    __slots__ = ("align", "data", "flags", "offset", "size")

    def __init__(self, data: bytes | None, size: int, align: int, flags: int):
        self.data, self.size, self.align, self.flags = data, size, align, flags
        self.offset = 0  # within the mapping, set by the layout


def _cstr(table: bytes, at: int) -> str:
    end = table.find(b"\0", at)
    if end < 0:
        raise Unsupported("unterminated name")
    return table[at:end].decode()


def _headers(blob: bytes) -> list[tuple]:
    if len(blob) < _EHDR.size or blob[:4] != b"\x7fELF":
        raise Unsupported("not an ELF file")
    ident, etype, machine, _, _, _, shoff, _, _, _, _, shentsize, shnum, _ = _EHDR.unpack_from(blob)
    if ident[4] != 2 or ident[5] != 1 or etype != ET_REL or machine != EM_X86_64 or sys.byteorder != "little":
        raise Unsupported("not a little-endian x86-64 relocatable object")
    if shentsize != _SHDR.size or shnum == 0 or shoff + shnum * _SHDR.size > len(blob):
        raise Unsupported("bad section table")
    return [_SHDR.unpack_from(blob, shoff + i * _SHDR.size) for i in range(shnum)]


def _body(blob: bytes, sh: tuple) -> bytes:
    offset, size = sh[4], sh[5]
    if offset + size > len(blob):
        raise Unsupported("section past the end of the file")
    return blob[offset : offset + size]


def _sections(blob: bytes, shdrs: list[tuple]) -> dict[int, _Section]:
    """The allocated sections (what the program reads or runs); relocation, symbol and string tables are read
    where they are used. Unwind tables are left out (nothing unwinds through our code: no exceptions, and
    LLVM's engine only registers them for debuggers). Section kinds a loader would have to run or resolve
    specially are refused."""
    out = {}
    for i, sh in enumerate(shdrs):
        stype, flags, size, align = sh[1], sh[2], sh[5], max(1, sh[8])
        if not flags & SHF_ALLOC or stype == SHT_X86_64_UNWIND:
            continue
        if stype not in (SHT_PROGBITS, SHT_NOBITS, SHT_NOTE) or align & (align - 1) or align > PAGE:
            raise Unsupported(f"section {i} of type {stype}")
        out[i] = _Section(None if stype == SHT_NOBITS else _body(blob, sh), size, align, flags)
    return out


def _layout(sections: dict[int, _Section]) -> tuple[int, int]:
    """Offsets in one mapping: executable sections from 0, the others from the next page; (code, total) bytes."""
    pos = 0
    for code in (True, False):
        for s in sections.values():
            if bool(s.flags & SHF_EXECINSTR) == code:
                pos = -(-pos // s.align) * s.align
                s.offset = pos
                pos += s.size
        if code:
            code_end = pos = -(-pos // PAGE) * PAGE
    return code_end, max(PAGE, -(-pos // PAGE) * PAGE)


def _symbols(blob: bytes, shdrs: list[tuple]) -> tuple[list[tuple], bytes]:
    tabs = [sh for sh in shdrs if sh[1] == SHT_SYMTAB]
    if len(tabs) != 1 or tabs[0][9] != _SYM.size or tabs[0][6] >= len(shdrs):
        raise Unsupported("no single symbol table")
    names = _body(blob, shdrs[tabs[0][6]])
    return list(_SYM.iter_unpack(_body(blob, tabs[0]))), names


def _address(sym: tuple, names: bytes, sections: dict[int, _Section], base: int, resolve) -> int:
    name_at, info, _, shndx, value, _ = sym
    if shndx == SHN_UNDEF:
        name = _cstr(names, name_at)
        addr = resolve(name)
        if addr is None:
            if info >> 4 == STB_WEAK:
                return 0
            raise Unsupported(f"unresolved symbol {name!r}")
        return addr
    if shndx == SHN_ABS:
        return value
    if shndx >= SHN_LORESERVE or shndx not in sections:
        raise Unsupported(f"symbol in section {shndx}")
    return base + sections[shndx].offset + value


def _relocate(blob: bytes, shdrs: list[tuple], sections: dict[int, _Section], base: int, resolve,
              syms: list[tuple], names: bytes) -> dict[int, bytearray]:
    """Each allocated section's bytes with every relocation applied, for the mapping at `base`."""
    images = {i: bytearray(s.data) for i, s in sections.items() if s.data is not None}
    addresses: dict[int, int] = {}
    for sh in shdrs:
        if sh[1] == SHT_REL:  # implicit addends: never emitted for x86-64 by LLVM
            raise Unsupported("REL relocations")
        if sh[1] != SHT_RELA or sh[7] not in sections:
            continue  # relocations of sections that are not loaded (debug info) need no work
        if sh[9] != _RELA.size:
            raise Unsupported("bad relocation entry size")
        target = sections[sh[7]]
        image = images.get(sh[7])
        where = base + target.offset
        for offset, info, addend in _RELA.iter_unpack(_body(blob, sh)):
            kind, index = info & 0xFFFFFFFF, info >> 32
            if kind == R_X86_64_NONE:
                continue
            if image is None or index >= len(syms):
                raise Unsupported("relocation outside the loaded bytes")
            s = addresses.get(index)
            if s is None:
                s = addresses[index] = _address(syms[index], names, sections, base, resolve)
            if kind == R_X86_64_64:
                _put(image, offset, 8, (s + addend) & 0xFFFFFFFFFFFFFFFF)
            elif kind == R_X86_64_PC64:
                _put(image, offset, 8, (s + addend - where - offset) & 0xFFFFFFFFFFFFFFFF)
            elif kind in (R_X86_64_PC32, R_X86_64_PLT32):
                rel = s + addend - where - offset
                if not -(1 << 31) <= rel < 1 << 31:
                    raise Unsupported("32-bit relative reference out of range")
                _put(image, offset, 4, rel & 0xFFFFFFFF)
            else:
                raise Unsupported(f"relocation type {kind}")
    return images


def _put(image: bytearray, offset: int, size: int, value: int) -> None:
    if offset + size > len(image):
        raise Unsupported("relocation past the end of its section")
    image[offset : offset + size] = value.to_bytes(size, "little")


_LIBC: list = []


def _mprotect():
    if not _LIBC:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.mprotect
        fn.argtypes, fn.restype = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int], ctypes.c_int
        _LIBC.append(fn)
    return _LIBC[0]


def load(blob: bytes, symbols: list[str], resolve) -> dict[str, int]:
    """Addresses of `symbols` (defined, global) once the object in `blob` is mapped and linked. `resolve(name)`
    gives the address of an external symbol, or None. Raises Unsupported (nothing left mapped) for objects
    outside the closed set this loader links, damaged ones included."""
    if not sys.platform.startswith("linux"):
        raise Unsupported("this loader maps memory the Linux way")
    try:
        return _load(blob, symbols, resolve)
    except (ValueError, IndexError, OverflowError, struct.error) as e:  # a damaged object: bytes that do not add up
        raise Unsupported(f"malformed object ({e})") from None


def _load(blob: bytes, symbols: list[str], resolve) -> dict[str, int]:
    shdrs = _headers(blob)
    sections = _sections(blob, shdrs)
    syms, names = _symbols(blob, shdrs)
    wanted = {}
    for sym in syms:
        if sym[1] >> 4 != 0 and sym[3] != SHN_UNDEF:  # a global (or weak) definition
            wanted[_cstr(names, sym[0])] = sym
    missing = [s for s in symbols if s not in wanted]
    if missing:
        raise Unsupported(f"symbols not defined: {missing}")
    code_end, total = _layout(sections)
    if total > MAX_BYTES:
        raise Unsupported(f"{total} bytes to map")
    try:
        m = mmap.mmap(-1, total, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    except OSError as e:
        raise Unsupported(f"cannot map {total} bytes: {e}") from None
    base = ctypes.addressof(ctypes.c_char.from_buffer(m))
    try:
        images = _relocate(blob, shdrs, sections, base, resolve, syms, names)
        out = {s: _address(wanted[s], names, sections, base, resolve) for s in symbols}
        for i, image in images.items():
            off = sections[i].offset
            m[off : off + len(image)] = image
        _protect(base, code_end, total, any(s.flags & SHF_WRITE for s in sections.values()))
    except BaseException:
        m.close()
        raise
    _MAPPINGS.append(m)
    return out


def _protect(base: int, code_end: int, total: int, writable: bool) -> None:
    """Code pages read+execute, data pages read-only unless a section there is written."""
    protect = _mprotect()
    if code_end and protect(base, code_end, mmap.PROT_READ | mmap.PROT_EXEC) != 0:
        raise Unsupported(f"mprotect refused executable pages (errno {ctypes.get_errno()})")
    if total > code_end and not writable and protect(base + code_end, total - code_end, mmap.PROT_READ) != 0:
        raise Unsupported(f"mprotect refused read-only pages (errno {ctypes.get_errno()})")

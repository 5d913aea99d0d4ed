"""The Prometheus text exposition format (0.0.4), read for the end-to-end scripts: the one parser they share.

    import exposition                      # common.bash puts Tests/e2e/lib on PYTHONPATH
    for s in exposition.read("metrics.prom"):
        s.name, s.labels, s.label, s.value  # labels: (name, value) pairs as written (repeats kept);
                                            # label: them as a dict; value: a float
    exposition.families(text)              # {name: Family(name, type, help, samples)}

Label values are unescaped (\\\\, \\" and \\n). A line that is not a comment, a blank or a sample raises
ValueError naming it.
"""
import re
from typing import NamedTuple, Optional

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r'[ \t]*([a-zA-Z_][a-zA-Z0-9_]*)[ \t]*=[ \t]*"((?:[^"\\\n]|\\.)*)"[ \t]*(,?)')
_ESCAPE = re.compile(r"\\(.)")
_UNESCAPED = {"n": "\n", "\\": "\\", '"': '"'}
# The suffixes of a summary's or a histogram's samples, for grouping samples under their family.
_SUFFIXES = ("_bucket", "_count", "_sum", "_created", "_total")


class Sample(NamedTuple):
    name: str
    labels: tuple  # (name, value) pairs in the order written; a repeated name stays repeated
    value: float
    timestamp: Optional[int]
    line: int  # 1-based
    text: str  # the line as read, without its newline

    @property
    def label(self):
        """The labels as a dict (the last of a repeated name wins)."""
        return dict(self.labels)

    def key(self, drop=()):
        """The series' identity whatever the label order: (name, sorted label pairs), less the names in drop."""
        return self.name, tuple(sorted(p for p in self.labels if p[0] not in drop))


class Family(NamedTuple):
    name: str
    type: str  # "untyped" without a TYPE line
    help: Optional[str]
    samples: list


def _unescape(value):
    return _ESCAPE.sub(lambda m: _UNESCAPED.get(m.group(1), m.group(0)), value)


def _lines(source):
    # Only "\n" ends a line: str.splitlines() would also split at the Unicode line separators a label value
    # may hold.
    return source.split("\n") if isinstance(source, str) else (line.rstrip("\n") for line in source)


def parse_sample(text, number=0):
    """One sample line as a Sample."""
    start = len(text) - len(text.lstrip(" \t"))
    match = _NAME.match(text, start)
    if not match:
        raise ValueError(f"line {number}: not a sample: {text!r}")
    name, position, labels = match.group(), match.end(), []
    after_name = len(text) - len(text[position:].lstrip(" \t"))
    if text.startswith("{", after_name):
        position = after_name + 1
        while not text.startswith("}", position):
            match = _LABEL.match(text, position)
            if not match:
                raise ValueError(f"line {number}: bad label at column {position + 1}: {text!r}")
            labels.append((match.group(1), _unescape(match.group(2))))
            position = match.end()
            if not match.group(3) and not text.startswith("}", position):
                raise ValueError(f"line {number}: expected , or }} at column {position + 1}: {text!r}")
        position += 1
    fields = text[position:].split()
    if not 1 <= len(fields) <= 2 or not text[position:position + 1].isspace():
        raise ValueError(f"line {number}: expected a value (and a timestamp): {text!r}")
    try:
        value = float(fields[0])
        timestamp = int(fields[1]) if len(fields) == 2 else None
    except ValueError:
        raise ValueError(f"line {number}: bad value or timestamp: {text!r}") from None
    return Sample(name, tuple(labels), value, timestamp, number, text)


def samples(source):
    """Every sample of an exposition (a string, or an iterable of lines such as an open file)."""
    out = []
    for number, text in enumerate(_lines(source), 1):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        out.append(parse_sample(text, number))
    return out


def read(path):
    """Every sample of the exposition in the file at path."""
    with open(path, encoding="utf-8", newline="\n") as file:  # only "\n" ends a line
        return samples(file)


def families(source):
    """The exposition's families by name, in order: HELP and TYPE from their comments, and the samples of
    each (a sample belongs to the family its name is, or is with a summary's or histogram's suffix; a
    sample of no declared family makes an untyped family of its own)."""
    out, current = {}, None
    for number, text in enumerate(_lines(source), 1):
        stripped = text.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            words = stripped[1:].split(None, 2)
            if len(words) >= 2 and words[0] in ("HELP", "TYPE"):
                family = out.setdefault(words[1], Family(words[1], "untyped", None, []))
                rest = words[2] if len(words) == 3 else ""
                if words[0] == "HELP":
                    family = family._replace(help=_unescape(rest))
                else:
                    family = family._replace(type=rest.strip())
                out[family.name] = current = family
            continue
        sample = parse_sample(text, number)
        if current is None or not any(sample.name == current.name + s for s in ("",) + _SUFFIXES):
            current = out.setdefault(sample.name, Family(sample.name, "untyped", None, []))
        current.samples.append(sample)
    return out

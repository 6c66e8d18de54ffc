namespace Serverless.Pipeline.Scoring;

/// <summary>
/// The fields of one record, without copying: ranges into the record itself, or, for a record with quoted fields,
/// into a scratch buffer that holds their unquoted text. Only well-formed quoting reaches here
/// (<see cref="Data.CsvText.QuotingProblem"/> turns the rest into error rows first).
/// </summary>
internal sealed class CsvFields
{
    private Range[] _ranges = new Range[64];
    private char[] _scratch = new char[256];

    /// <summary>The number of fields of the last record split.</summary>
    public int Count { get; private set; }

    /// <summary>The text the ranges index: the record, or the scratch buffer when it had quoted fields.</summary>
    public ReadOnlySpan<char> Text(ReadOnlySpan<char> record) => _quoted ? _scratch.AsSpan(0, _scratchLength) : record;

    private bool _quoted;
    private int _scratchLength;

    /// <summary>The range of field <paramref name="index"/> in <see cref="Text"/>.</summary>
    public Range this[int index] => _ranges[index];

    /// <summary>Splits <paramref name="record"/> (no line end) at <paramref name="delimiter"/>.</summary>
    public void Split(ReadOnlySpan<char> record, char delimiter)
    {
        Count = 0;
        _quoted = record.Contains('"');
        if (_quoted)
        {
            SplitQuoted(record, delimiter);
            return;
        }

        var start = 0;
        while (true)
        {
            var end = record[start..].IndexOf(delimiter);
            if (end < 0)
            {
                Add(start..record.Length);
                return;
            }

            Add(start..(start + end));
            start += end + 1;
        }
    }

    private void SplitQuoted(ReadOnlySpan<char> record, char delimiter)
    {
        if (_scratch.Length < record.Length)
        {
            _scratch = new char[Math.Max(record.Length, _scratch.Length * 2)];
        }

        var i = 0;
        var o = 0;
        while (true)
        {
            var start = o;
            if (i < record.Length && record[i] == '"')
            {
                // Well formed: the field ends at a quote that is not doubled, followed by the delimiter or the end.
                i++;
                while (i < record.Length)
                {
                    if (record[i] == '"')
                    {
                        if (i + 1 < record.Length && record[i + 1] == '"')
                        {
                            _scratch[o++] = '"';
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    _scratch[o++] = record[i++];
                }
            }
            else
            {
                var end = record[i..].IndexOf(delimiter);
                var text = end < 0 ? record[i..] : record.Slice(i, end);
                text.CopyTo(_scratch.AsSpan(o));
                o += text.Length;
                i += text.Length;
            }

            Add(start..o);
            if (i >= record.Length)
            {
                _scratchLength = o;
                return;
            }

            i++; // the delimiter
        }
    }

    private void Add(Range range)
    {
        if (Count == _ranges.Length)
        {
            Array.Resize(ref _ranges, _ranges.Length * 2);
        }

        _ranges[Count++] = range;
    }
}

using System.Numerics;

namespace Serverless.Pipeline.Scoring;

/// <summary>
/// Finds where CSV records end, resumably, over UTF-8 bytes or UTF-16 chars, as Sylvan's lax reader reads them: a
/// quote opens a quoted field only at the start of a field; inside one, two quotes are a quote and one quote closes it;
/// text after a closing quote and a quote in the middle of an unquoted field belong to the field. A line break outside
/// quotes ends the record (an empty line is a record of one empty field). The chunker and the workers run the same
/// scanner, so they agree on every record, and records without a quote cost one vectorized search.
/// </summary>
internal struct CsvRecordScanner<T>
    where T : unmanaged, IEquatable<T>, INumberBase<T>
{
    private static readonly T Quote = T.CreateTruncating('"');
    private static readonly T NewLine = T.CreateTruncating('\n');

    private readonly T _delimiter;
    private State _state;

    public CsvRecordScanner(char delimiter)
    {
        _delimiter = T.CreateTruncating(delimiter);
        _state = State.FieldStart;
    }

    private enum State
    {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }

    /// <summary>
    /// The index in <paramref name="text"/> of the line break that ends the current record, or -1 when the record goes
    /// on past the end (the scanner then remembers where it is in the record, for the next call with the text after).
    /// </summary>
    public int FindEnd(ReadOnlySpan<T> text)
    {
        var i = 0;
        while (i < text.Length)
        {
            switch (_state)
            {
                case State.QuoteInQuoted:
                    // The quote before this one closed the field, unless this one escapes it.
                    _state = text[i].Equals(Quote) ? State.Quoted : State.Unquoted;
                    i += _state == State.Quoted ? 1 : 0;
                    continue;
                case State.Quoted:
                    var close = text[i..].IndexOf(Quote);
                    if (close < 0)
                    {
                        return -1;
                    }

                    i += close + 1;
                    _state = State.QuoteInQuoted;
                    continue;
                default:
                    var next = text[i..].IndexOfAny(NewLine, Quote);
                    if (next < 0)
                    {
                        _state = text[^1].Equals(_delimiter) ? State.FieldStart : State.Unquoted;
                        return -1;
                    }

                    var at = i + next;
                    if (text[at].Equals(NewLine))
                    {
                        _state = State.FieldStart;
                        return at;
                    }

                    var fieldStart = at == i ? _state == State.FieldStart : text[at - 1].Equals(_delimiter);
                    _state = fieldStart ? State.Quoted : State.Unquoted;
                    i = at + 1;
                    continue;
            }
        }

        return -1;
    }
}

using Serverless.Pipeline.Data;

namespace Serverless.Pipeline.Tests.Data;

/// <summary>RFC 4180 quoting of raw records (with their line end), as the readers of users' files check it.</summary>
public sealed class CsvTextTests
{
    [Theory]
    [InlineData("1,abc,2\n")]
    [InlineData("1,\"a,b\",2\r\n")]
    [InlineData("1,\"say \"\"hi\"\"\",2\n")]
    [InlineData("\"multi\nline\",2\n")]
    [InlineData("1,2,\"\"\n")]
    [InlineData("1,2,\"last\"")]
    [InlineData("1;\"x;y\";2\n")]
    public void QuotingProblem_ValidRecord_None(string record) =>
        Assert.Null(CsvText.QuotingProblem(record, record.Contains(';', StringComparison.Ordinal) ? ';' : ','));

    [Theory]
    [InlineData("1,\"abc\"def,2\n", "field 2: text after a closing quote")]
    [InlineData("1,ab\"c,2\n", "field 2: a quote inside an unquoted field")]
    [InlineData("1,2,3\"\n", "field 3: a quote inside an unquoted field")]
    [InlineData("1,\"never closed,2\n3,4\n", "field 2: a quoted field is not closed")]
    [InlineData("\"a\"\"b\"c,2\n", "field 1: text after a closing quote")]
    public void QuotingProblem_BadQuoting_NamesTheField(string record, string expected) =>
        Assert.StartsWith(expected, CsvText.QuotingProblem(record, ','), StringComparison.Ordinal);

    [Theory]
    [InlineData("a,b;c", ',')]
    [InlineData("a;b;c,d", ';')]
    [InlineData("a\tb\tc", '\t')]
    [InlineData("single", ',')]
    public void Delimiter_Header_MostFrequentCandidate(string header, char expected) =>
        Assert.Equal(expected, CsvText.Delimiter(header));
}

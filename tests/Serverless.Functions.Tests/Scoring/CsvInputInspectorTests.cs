using System.Text;
using Serverless.Functions.Scoring;

namespace Serverless.Functions.Tests.Scoring;

public sealed class CsvInputInspectorTests
{
    private readonly CsvInputInspector _inspector = new();

    [Fact]
    public async Task InspectAsync_QuotedNewlinesCrlfAndBom_CountsLogicalRows()
    {
        var csv = "\uFEFFid,comment,amount\r\n1,\"two\r\nlines\",3.5\r\n2,\"quote \"\"inside\"\"\",4\r\n";

        var result = await InspectAsync(csv);

        Assert.Equal(["id", "comment", "amount"], result.Columns);
        Assert.Equal(2, result.Rows);
        Assert.True(result.IsValid);
    }

    [Fact]
    public async Task InspectAsync_SemicolonDelimiter_Detected()
    {
        var result = await InspectAsync("a;b;c\n1;2;3\n");

        Assert.Equal(["a", "b", "c"], result.Columns);
        Assert.Equal(1, result.Rows);
    }

    [Fact]
    public async Task InspectAsync_RowsWithWrongFieldCount_CountedAndNamedByFileAndRow()
    {
        var result = await InspectAsync("a,b\n1,2\n3\n4,5\n6,7,8\n");

        Assert.False(result.IsValid);
        Assert.Equal(4, result.Rows);
        Assert.Equal(2, result.MalformedRows);
        Assert.Equal([3L, 5L], result.Problems.Select(p => p.Row));
        Assert.StartsWith("score-in/test.csv, row 3:", result.Problems[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InspectAsync_DuplicateHeader_NamesTheColumn()
    {
        var result = await InspectAsync("a,B,b\n1,2,3\n");

        var problem = Assert.Single(result.Problems);
        Assert.Equal(1, problem.Row);
        Assert.Equal("B", problem.Column, StringComparer.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task InspectAsync_EmptyFile_RejectedAsHavingNoHeader()
    {
        var result = await InspectAsync(string.Empty);

        Assert.False(result.IsValid);
        Assert.Contains("no header row", Assert.Single(result.Problems).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InspectAsync_ManyBadRows_KeepsAtMostMaxProblemsButCountsAll()
    {
        var csv = "a,b\n" + string.Concat(Enumerable.Repeat("1\n", 50));

        var result = await InspectAsync(csv);

        Assert.Equal(50, result.MalformedRows);
        Assert.Equal(CsvInputInspector.MaxProblems, result.Problems.Count);
    }

    private Task<InputInspection> InspectAsync(string csv) =>
        _inspector.InspectAsync(new MemoryStream(Encoding.UTF8.GetBytes(csv)), "score-in/test.csv", CancellationToken.None);
}

using Serverless.LocalHost.Blobs;

namespace Serverless.LocalHost.Tests;

public sealed class BlobPathPatternTests
{
    [Fact]
    public void Parse_ContainerAndName_MatchesWholeBlobNameIncludingFolders()
    {
        var pattern = BlobPathPattern.Parse("score-in/{name}");

        Assert.Equal("score-in", pattern.Container);
        Assert.Equal(string.Empty, pattern.ListPrefix);
        Assert.Equal("a/b/c.csv", pattern.Match("a/b/c.csv")!["name"]);
    }

    [Fact]
    public void Match_FolderThenName_FolderIsOneSegment()
    {
        var pattern = BlobPathPattern.Parse("score-in/{folder}/{name}");

        var values = pattern.Match("2026/11/data.csv")!;

        Assert.Equal("2026", values["folder"]);
        Assert.Equal("11/data.csv", values["name"]);
        Assert.Null(pattern.Match("data.csv"));
    }

    [Fact]
    public void Match_LiteralPrefixAndExtension_FiltersAndListsByPrefix()
    {
        var pattern = BlobPathPattern.Parse("datasets/incoming/{name}.csv");

        Assert.Equal("incoming/", pattern.ListPrefix);
        Assert.Equal("iris", pattern.Match("incoming/iris.csv")!["name"]);
        Assert.Null(pattern.Match("incoming/iris.parquet"));
        Assert.Null(pattern.Match("other/iris.csv"));
    }

    [Theory]
    [InlineData("Score-In/{name}")]
    [InlineData("ab/{name}")]
    [InlineData("a--b/{name}")]
    [InlineData("score-in/{name")]
    [InlineData("score-in/{name}/{name}")]
    public void Parse_InvalidPath_ThrowsFormatExceptionNamingThePath(string path)
    {
        var error = Assert.Throws<FormatException>(() => BlobPathPattern.Parse(path));

        Assert.Contains(path.Split('/')[0], error.Message, StringComparison.Ordinal);
    }
}

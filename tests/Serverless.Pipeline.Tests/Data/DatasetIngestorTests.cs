using System.Text;
using Azure.Storage.Blobs;
using Serverless.Pipeline.Data;
using Serverless.Testing;

namespace Serverless.Pipeline.Tests.Data;

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}

/// <summary>Ingest on a real Azurite: snapshots, rejects, refusals and lineage ids.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class DatasetIngestorTests(AzuriteFixture azurite)
{
    private const string Customers = "\uFEFFid;age;plan;spend;churned\r\n1;34;basic;29.9;no\r\n2;51;premium;\"89,5\";yes\r\n3;23;basic;19.9;no\r\n4;45;\"standard\r\nplus\";49.5;yes\r\n";

    private readonly BlobContainerClient _snapshots = new(azurite.ConnectionString, $"ds-{Guid.NewGuid():N}"[..24]);

    private DatasetIngestor Ingestor => new(_snapshots, TimeProvider.System);

    [Fact]
    public async Task Ingest_ValidCsvWithBomCrlfQuotesAndSemicolons_SnapshotWithSchemaAndProfile()
    {
        var snapshot = await IngestAsync(Customers, new IngestOptions(Label: "churned"));

        Assert.Equal((4, 4, 0), (snapshot.RowsRead, snapshot.RowsAccepted, snapshot.RowsRejected));
        Assert.Equal([ColumnKind.Numeric, ColumnKind.Numeric, ColumnKind.Categorical, ColumnKind.Categorical, ColumnKind.Boolean], snapshot.Schema.Columns.Select(c => c.Kind));
        Assert.Equal(38.25, snapshot.Profile[1].Mean);
        var data = await ReadAsync(snapshot.Prefix + "data.csv");
        Assert.StartsWith("id,age,plan,spend,churned\n", data.Replace("\r\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("\"standard\r\nplus\"", data, StringComparison.Ordinal);
        Assert.Equal("row,column,reason", (await ReadAsync(snapshot.Prefix + "rejects.csv")).Trim());
        Assert.Contains("\"distinct\"", await ReadAsync(snapshot.Prefix + "profile.json"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingest_BadRows_RejectedWithRowColumnAndReason()
    {
        var rows = new StringBuilder("id,age,label\n");
        for (var i = 1; i <= 40; i++)
        {
            rows.Append(i switch
            {
                7 => "7,abc,a\n",
                12 => "12,30\n",
                20 => "20,41,\n",
                _ => $"{i},{20 + i},{(i % 2 == 0 ? "a" : "b")}\n",
            });
        }

        var snapshot = await IngestAsync(rows.ToString(), new IngestOptions(Label: "label"));

        Assert.Equal((40, 37, 3), (snapshot.RowsRead, snapshot.RowsAccepted, snapshot.RowsRejected));
        Assert.Equal(
            [new RejectedRow(8, "age", "'abc' is not a number"), new RejectedRow(13, null, "2 fields where the header has 3"), new RejectedRow(21, "label", "the label is missing")],
            snapshot.FirstRejects);
        var rejects = (await ReadAsync(snapshot.Prefix + "rejects.csv")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, rejects.Length);
        Assert.Equal("8,age,'abc' is not a number", rejects[1].Trim());
    }

    [Fact]
    public async Task Ingest_MostlyWrongType_RefusedNamingColumnAndFirstRow()
    {
        var csv = "id,age\n1,20\n2,x\n3,y\n4,30\n";

        var error = await Assert.ThrowsAsync<DatasetValidationException>(() => IngestAsync(csv, new IngestOptions(Schema: new Dictionary<string, ColumnKind> { ["age"] = ColumnKind.Numeric })));

        Assert.Equal(("age", 3L), (error.Column, error.Row!.Value));
        Assert.Contains("2 of 4 rows", error.Message, StringComparison.Ordinal);
        Assert.StartsWith("in/data.csv", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingest_LabelNotInHeader_RefusedNamingFileRowAndColumn()
    {
        var error = await Assert.ThrowsAsync<DatasetValidationException>(() => IngestAsync("a,b\n1,2\n", new IngestOptions(Label: "target")));

        Assert.Equal(("in/data.csv", 1L, "target"), (error.File, error.Row!.Value, error.Column));
        Assert.Contains("(a, b)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingest_LabelWithOneClass_Refused()
    {
        var error = await Assert.ThrowsAsync<DatasetValidationException>(() => IngestAsync("x,y\n1,yes\n2,yes\n3,yes\n", new IngestOptions(Label: "y")));

        Assert.Contains("single class ('yes')", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingest_SameBytesTwice_SameSnapshot_OtherLabelOtherSnapshot_SourceUntouched()
    {
        var source = new BlobContainerClient(azurite.ConnectionString, $"src-{Guid.NewGuid():N}"[..24]);
        await source.CreateIfNotExistsAsync();
        var blob = source.GetBlobClient("customers.csv");
        await blob.UploadAsync(BinaryData.FromString(Customers));
        var etag = (await blob.GetPropertiesAsync()).Value.ETag;

        var first = await Ingestor.IngestAsync(blob, new IngestOptions(Label: "churned"), CancellationToken.None);
        var again = await Ingestor.IngestAsync(blob, new IngestOptions(Label: "churned"), CancellationToken.None);
        var otherLabel = await Ingestor.IngestAsync(blob, new IngestOptions(Label: "plan"), CancellationToken.None);

        Assert.Equal(first.Id, again.Id);
        Assert.Equal(first.CreatedAt, again.CreatedAt);
        Assert.NotEqual(first.Id, otherLabel.Id);
        Assert.Equal(first.SourceSha256, otherLabel.SourceSha256);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(Customers))), first.SourceSha256);
        Assert.Equal(etag, (await blob.GetPropertiesAsync()).Value.ETag);
    }

    [Fact]
    public async Task Ingest_JsonLines_SameSnapshotContentAsCsvUnknownFieldRejectedByLine()
    {
        const string Csv = "id,age,plan,churned\n1,34,basic,no\n2,51,premium,yes\n3,,basic,no\n4,45,standard,yes\n";
        var jsonLines = string.Join('\n',
            "{\"id\": 1, \"age\": 34, \"plan\": \"basic\", \"churned\": \"no\"}",
            "{\"id\": 2, \"age\": 51, \"plan\": \"premium\", \"churned\": \"yes\"}",
            string.Empty,
            "{\"id\": 3, \"age\": null, \"plan\": \"basic\", \"churned\": \"no\"}",
            "{\"id\": 4, \"age\": 45, \"plan\": \"standard\", \"churned\": \"yes\"}") + "\n";
        // The columns come from the first 1000 records; a new field after them is refused by name, not dropped.
        var withExtra = string.Concat(Enumerable.Range(1, 1000).Select(i => $"{{\"id\": {i}, \"age\": {20 + (i % 50)}, \"plan\": \"basic\", \"churned\": \"{(i % 2 == 0 ? "yes" : "no")}\"}}\n"))
            + "{\"id\": 1001, \"age\": 30, \"plan\": \"basic\", \"churned\": \"no\", \"coupon\": \"X1\"}\n";

        var fromCsv = await IngestAsync(Csv, new IngestOptions(Label: "churned"));
        var fromJson = await Ingestor.IngestAsync(new MemoryStream(Encoding.UTF8.GetBytes(jsonLines)), "in/data.jsonl", new IngestOptions(Label: "churned"), CancellationToken.None);
        var extra = await Ingestor.IngestAsync(new MemoryStream(Encoding.UTF8.GetBytes(withExtra)), "in/extra.ndjson", new IngestOptions(Label: "churned"), CancellationToken.None);

        Assert.Equal(fromCsv.Schema.Columns, fromJson.Schema.Columns);
        Assert.Equal(fromCsv.Profile.Select(p => (p.Count, p.Missing, p.Distinct)), fromJson.Profile.Select(p => (p.Count, p.Missing, p.Distinct)));
        Assert.Equal((await ReadAsync(fromCsv.Prefix + "data.csv")).Replace("\r\n", "\n", StringComparison.Ordinal), (await ReadAsync(fromJson.Prefix + "data.csv")).Replace("\r\n", "\n", StringComparison.Ordinal));
        Assert.Equal([new RejectedRow(1001, "coupon", "field 'coupon' is not among the columns of the first 1000 records")], extra.FirstRejects);
        Assert.Equal((1001, 1000), (extra.RowsRead, extra.RowsAccepted));
    }

    [Fact]
    public async Task Ingest_JsonLinesBadLine_RefusedNamingTheLine()
    {
        var error = await Assert.ThrowsAsync<DatasetValidationException>(() => Ingestor.IngestAsync(new MemoryStream("{\"a\": 1}\n{\"a\": \n"u8.ToArray()), "in/bad.jsonl", new IngestOptions(), CancellationToken.None));

        Assert.Equal(2L, error.Row);
        Assert.StartsWith("in/bad.jsonl, line 2: not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingest_Parquet_TypedColumnsBecomeKindsNullsMissing()
    {
        var schema = new Parquet.Schema.ParquetSchema(
            new Parquet.Schema.DataField<double?>("spend"),
            new Parquet.Schema.DataField<string>("plan"),
            new Parquet.Schema.DataField<bool>("active"),
            new Parquet.Schema.DataField<DateTime>("signup"),
            new Parquet.Schema.DataField<string>("churned"));
        var rows = Enumerable.Range(0, 60).Select(i => (IDictionary<string, object?>)new Dictionary<string, object?>
        {
            ["spend"] = i % 10 == 0 ? null : 10.5 + i,
            ["plan"] = i % 3 == 0 ? "basic" : "premium",
            ["active"] = i % 2 == 0,
            ["signup"] = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddDays(i),
            ["churned"] = i % 4 == 0 ? "yes" : "no",
        }).ToList();
        using var parquet = new MemoryStream();
        await Parquet.Serialization.ParquetSerializer.SerializeUntypedAsync(rows, schema, parquet);

        var snapshot = await Ingestor.IngestAsync(new MemoryStream(parquet.ToArray()), "in/customers.parquet", new IngestOptions(Label: "churned"), CancellationToken.None);

        Assert.Equal(["spend", "plan", "active", "signup", "churned"], snapshot.Schema.Columns.Select(c => c.Name));
        Assert.Equal([ColumnKind.Numeric, ColumnKind.Categorical, ColumnKind.Boolean, ColumnKind.DateTime, ColumnKind.Boolean], snapshot.Schema.Columns.Select(c => c.Kind));
        Assert.Equal((60, 60, 0), (snapshot.RowsRead, snapshot.RowsAccepted, snapshot.RowsRejected));
        Assert.Equal(6, snapshot.Profile[0].Missing);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(parquet.ToArray())), snapshot.SourceSha256);
    }

    /// <summary>A badly quoted record is a rejected row with its row and reason; the records after it are read (before: the run failed).</summary>
    [Fact]
    public async Task Ingest_MalformedCsvRecords_RejectedWithRowAndReasonRestRead()
    {
        var rows = new StringBuilder("id,age,label\n");
        for (var i = 1; i <= 60; i++)
        {
            rows.Append(i switch
            {
                9 => "9,\"41\"x,a\n",
                30 => "30,3\"0,b\n",
                _ => $"{i},{20 + i},{(i % 2 == 0 ? "a" : "b")}\n",
            });
        }

        var snapshot = await IngestAsync(rows.ToString(), new IngestOptions(Label: "label"));

        Assert.Equal((60, 58, 2), (snapshot.RowsRead, snapshot.RowsAccepted, snapshot.RowsRejected));
        Assert.Equal([10L, 31L], snapshot.FirstRejects.Select(r => r.Row));
        Assert.StartsWith("not valid CSV: field 2: text after a closing quote", snapshot.FirstRejects[0].Reason, StringComparison.Ordinal);
        Assert.StartsWith("not valid CSV: field 2: a quote inside an unquoted field", snapshot.FirstRejects[1].Reason, StringComparison.Ordinal);
        var rejects = (await ReadAsync(snapshot.Prefix + "rejects.csv")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("10,,\"not valid CSV: field 2", rejects[1], StringComparison.Ordinal);
        Assert.Contains("\n60,80,a", (await ReadAsync(snapshot.Prefix + "data.csv")).Replace("\r\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    /// <summary>Bytes that are not text (a binary file named .csv) are refused naming the file and a row (before: neither).</summary>
    [Fact]
    public async Task Ingest_BinaryFileNamedCsv_RefusedNamingFileAndRow()
    {
        var random = new byte[200_000];
        new Random(7).NextBytes(random);
        var bytes = Encoding.UTF8.GetBytes("id,age,label\n").Concat(random).ToArray();

        var error = await Assert.ThrowsAsync<DatasetValidationException>(() => Ingestor.IngestAsync(new MemoryStream(bytes), "in/data.csv", new IngestOptions(Label: "label"), CancellationToken.None));

        Assert.StartsWith("in/data.csv", error.Message, StringComparison.Ordinal);
        Assert.Matches(@"row \d+", error.Message);
    }

    [Fact]
    public async Task Ingest_NotParquet_RefusedNamingTheFile()
    {
        var error = await Assert.ThrowsAsync<DatasetValidationException>(() => Ingestor.IngestAsync(new MemoryStream("a,b\n1,2\n"u8.ToArray()), "in/fake.parquet", new IngestOptions(), CancellationToken.None));

        Assert.StartsWith("in/fake.parquet: not a readable Parquet file", error.Message, StringComparison.Ordinal);
    }

    private Task<DatasetSnapshot> IngestAsync(string csv, IngestOptions options) =>
        Ingestor.IngestAsync(new MemoryStream(Encoding.UTF8.GetBytes(csv)), "in/data.csv", options, CancellationToken.None);

    private async Task<string> ReadAsync(string name) => (await _snapshots.GetBlobClient(name).DownloadContentAsync()).Value.Content.ToString();
}

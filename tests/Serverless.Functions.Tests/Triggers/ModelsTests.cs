using System.Net;
using System.Text;
using Microsoft.Extensions.Options;
using Serverless.Functions.Hosting;
using Serverless.Functions.Triggers.Http;
using Serverless.Pipeline.Scoring;

namespace Serverless.Functions.Tests.Triggers;

/// <summary>Online predict's checks on the real SDK's request types, before it loads a model or touches storage.</summary>
public sealed class ModelsTests
{
    private readonly Models _models;

    public ModelsTests()
    {
        var store = TestHttp.Store();
        _models = new Models(store, new ModelCache(store.Registry), Options.Create(new PipelineOptions()));
    }

    [Fact]
    public async Task Predict_BodyOverTheLimit_413WithoutReadingTheRest()
    {
        // 880,000 rows (about 87 MB), as a fault suite sent: refused after reading just over the limit.
        var row = Encoding.UTF8.GetBytes("{\"age\": 23, \"tenure_months\": 3, \"plan\": \"basic\", \"support_calls\": 5, \"x\": 1},");
        var body = new RepeatingStream(Encoding.UTF8.GetBytes("{\"rows\": ["), row, 880_000);

        var response = (TestHttp.Response)await _models.Predict(TestHttp.Request(body), "churn", CancellationToken.None);
        using var problem = response.ReadJson();

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.StartsWith("The body is over 4 MiB; send at most 1000 rows", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.InRange(body.Position, Models.MaxBodyBytes, Models.MaxBodyBytes + 100_000);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("0")]
    [InlineData("99999999999")]
    public async Task Predict_VersionNotANumber_400NamingIt(string version)
    {
        var response = (TestHttp.Response)await _models.Predict(TestHttp.Request("{\"rows\": [{\"age\": 1}]}", $"?version={version}"), "churn", CancellationToken.None);
        using var problem = response.ReadJson();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal($"version: '{version}' is not a version number (1, 2, ...); leave it out for the 'champion' version.", problem.RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Predict_TwoSpellingsOfOneColumn_400NamingBoth()
    {
        var response = (TestHttp.Response)await _models.Predict(TestHttp.Request("{\"rows\": [{\"age\": 1, \"AGE\": 2}]}"), "churn", CancellationToken.None);
        using var problem = response.ReadJson();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.EndsWith("row 1: 'age' and 'AGE' name the same column (names ignore case)", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    /// <summary>A prefix, then one row repeated: a large body that is never held in memory.</summary>
    private sealed class RepeatingStream(byte[] prefix, byte[] row, long rows) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => prefix.Length + (row.Length * rows);

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var written = 0;
            while (written < count && _position < Length)
            {
                buffer[offset + written++] = _position < prefix.Length ? prefix[_position] : row[(_position - prefix.Length) % row.Length];
                _position++;
            }

            return written;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

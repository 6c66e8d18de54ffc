using System.Net;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using Serverless.Functions.Triggers.Http;

namespace Serverless.Functions.Tests.Triggers;

/// <summary>The training HTTP functions on the real SDK's request types, before they touch storage or start a run.</summary>
public sealed class TrainingRunsTests
{
    private readonly Mock<DurableTaskClient> _client = new("test");
    private readonly TrainingRuns _runs = new(TestHttp.Store(), TimeProvider.System, NullLogger<TrainingRuns>.Instance);

    [Theory]
    [InlineData("{\"dataset\": \"churn.csv\", \"label\": ")]
    [InlineData("not json at all")]
    [InlineData("[1, 2, 3]")]
    public async Task StartTraining_MalformedJsonBody_Returns400SayingWhatTheBodyMustBe(string body)
    {
        var response = (TestHttp.Response)await _runs.StartTraining(TestHttp.Request(body), _client.Object, "churn", CancellationToken.None);
        using var problem = response.ReadJson();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("The body must be a training request", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        _client.Verify(c => c.ScheduleNewOrchestrationInstanceAsync(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task StartTraining_EmptyBody_Returns400()
    {
        var response = (TestHttp.Response)await _runs.StartTraining(TestHttp.Request(string.Empty), _client.Object, "churn", CancellationToken.None);
        using var problem = response.ReadJson();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("The body must be", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"dataset\": \"c.csv\", \"label\": \"y\", \"positiveClas\": \"yes\"}", "positiveClas: not a field of the request; the fields are model, dataset, label, task, ")]
    [InlineData("{\"dataset\": \"c.csv\", \"label\": \"y\", \"sweep\": {\"sampler\": \"tpe\"}}", "sweep.sampler: 'tpe' is not one of Random, Sobol, Grid, Bayesian.")]
    [InlineData("{\"dataset\": \"c.csv\", \"label\": \"y\", \"sweep\": {\"maxTrails\": 3}}", "sweep.maxTrails: not a field of sweep; the fields are trainers, searchSpaces, sampler, maxTrials, seed.")]
    [InlineData("{\"dataset\": \"c.csv\", \"label\": \"y\", \"task\": \"classification\"}", "task: 'classification' is not one of BinaryClassification, MulticlassClassification, Regression.")]
    public async Task StartTraining_UnknownFieldOrEnumValue_OneLineNamingTheField(string body, string expected)
    {
        var response = (TestHttp.Response)await _runs.StartTraining(TestHttp.Request(body), _client.Object, "churn", CancellationToken.None);
        using var problem = response.ReadJson();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var line = Assert.Single(problem.RootElement.GetProperty("problems").EnumerateArray()).GetString();
        Assert.StartsWith(expected, line, StringComparison.Ordinal);
        _client.Verify(c => c.ScheduleNewOrchestrationInstanceAsync(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Theory]
    [InlineData("{\"timeoutMinutes\": 0}", "limits.timeoutMinutes: above 0 and at most 43,200 (30 days).")]
    [InlineData("{\"timeoutMinutes\": 5, \"trialTimeoutMinutes\": 10}", "limits.trialTimeoutMinutes: above 0 and at most timeoutMinutes.")]
    [InlineData("{\"maxTrials\": 0}", "limits.maxTrials: between 1 and 1,000.")]
    [InlineData("{\"maxConcurrentTrials\": 65}", "limits.maxConcurrentTrials: between 1 and 64.")]
    [InlineData("{\"timeoutMinute\": 5}", "limits.timeoutMinute: not a field of limits; the fields are timeoutMinutes, trialTimeoutMinutes, maxTrials, maxConcurrentTrials.")]
    public async Task StartTraining_LimitOutOfRange_400NamingIt(string limits, string expected)
    {
        var body = $"{{\"dataset\": \"c.csv\", \"label\": \"y\", \"limits\": {limits}}}";

        var response = (TestHttp.Response)await _runs.StartTraining(TestHttp.Request(body), _client.Object, "churn", CancellationToken.None);
        using var problem = response.ReadJson();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(expected, Assert.Single(problem.RootElement.GetProperty("problems").EnumerateArray()).GetString());
    }

    [Fact]
    public async Task StartTraining_DescriptionPastWhatStorageKeeps_400BeforeAnyRun()
    {
        var body = System.Text.Json.JsonSerializer.Serialize(new { dataset = "c.csv", label = "y", description = new string('d', 200_000) });

        var response = (TestHttp.Response)await _runs.StartTraining(TestHttp.Request(body), _client.Object, "churn", CancellationToken.None);
        using var problem = response.ReadJson();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("description: at most 8,000 characters (got 200,000).", Assert.Single(problem.RootElement.GetProperty("problems").EnumerateArray()).GetString());
        _client.Verify(c => c.ScheduleNewOrchestrationInstanceAsync(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task StartTraining_ReversedSearchSpaceBounds_400NamingTheHyperparameter()
    {
        const string body = "{\"dataset\": \"c.csv\", \"label\": \"y\", \"sweep\": {\"trainers\": [\"LightGbm\"], \"searchSpaces\": {\"LightGbm\": {\"learningRate\": \"uniform(5, 1)\"}}}}";

        var response = (TestHttp.Response)await _runs.StartTraining(TestHttp.Request(body), _client.Object, "churn", CancellationToken.None);
        using var problem = response.ReadJson();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var line = Assert.Single(problem.RootElement.GetProperty("problems").EnumerateArray()).GetString();
        Assert.Contains("'learningRate' of LightGbm", line, StringComparison.Ordinal);
        Assert.Contains("the lower bound 5 must be below the upper bound 1", line, StringComparison.Ordinal);
    }

    [Fact]
    public void UserMessage_StorageError_FirstLineOnlyNoHeaders()
    {
        var failure = new TaskFailureDetails(
            typeof(Azure.RequestFailedException).FullName!,
            "The property value exceeds the maximum allowed size (64KB).\nStatus: 400 (Bad Request)\nErrorCode: PropertyValueTooLarge\n\nHeaders:\nx-ms-request-id: 1234\n",
            null,
            null,
            null);

        var message = Serverless.Functions.Triggers.Durable.TrainModelOrchestrator.UserMessage(failure);

        Assert.Equal("The property value exceeds the maximum allowed size (64KB). (a storage error; the log has the details)", message);
    }

    [Fact]
    public async Task ApproveRun_MalformedJsonBody_Returns400AndRaisesNoEvent()
    {
        var response = (TestHttp.Response)await _runs.ApproveRun(TestHttp.Request("{\"approve\": tru"), _client.Object, "churn-20261201T000000Z-abcd1234", CancellationToken.None);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        _client.Verify(c => c.RaiseEventAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<CancellationToken>()), Times.Never);
    }
}

using System.Security.Cryptography;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Registry;
using Serverless.Pipeline.Tests.Data;
using Serverless.Pipeline.Training;
using Serverless.Testing;

namespace Serverless.Pipeline.Tests.Registry;

[Collection(AzuriteCollection.Name)]
public sealed class ModelRegistryTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private readonly string _name = $"churn-{Guid.NewGuid():N}"[..20];
    private readonly ModelRegistry _registry = new(
        new TableServiceClient(azurite.ConnectionString),
        new BlobContainerClient(azurite.ConnectionString, "models"),
        TimeProvider.System);

    public Task InitializeAsync() => _registry.EnsureCreatedAsync(CancellationToken.None);

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Register_NewRun_ReadyWithArtifactHashAndSignature()
    {
        var bytes = "model bytes"u8.ToArray();

        var version = await _registry.RegisterAsync(Registration("run-1"), new MemoryStream(bytes), CancellationToken.None);
        var stored = await _registry.GetVersionAsync(_name, 1, CancellationToken.None);
        var blob = new BlobClient(new Uri(version.ArtifactUri!), new Azure.Storage.StorageSharedKeyCredential("devstoreaccount1", "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="));

        Assert.Equal((1, ModelVersionStatus.Ready), (version.Version, version.Status));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), version.ArtifactSha256);
        Assert.Equal((ModelVersionStatus.Ready, "run-1", version.ArtifactSha256, version.ArtifactUri), (stored!.Status, stored.RunId, stored.ArtifactSha256, stored.ArtifactUri));
        Assert.Equal(0.91, stored.Metrics["auc"]);
        Assert.Equal(["age", "plan"], stored.Signature.Inputs.Select(i => i.Name));
        Assert.Equal(["no", "yes"], stored.Signature.Classes);
        Assert.Equal(["age"], stored.Plan.Numeric);
        Assert.Equal(["plan"], stored.Plan.Categorical);
        Assert.Equal(["id"], stored.Plan.Dropped);
        Assert.Equal(bytes, (await blob.DownloadContentAsync()).Value.Content.ToArray());
    }

    [Fact]
    public async Task Register_SameRunTwice_OneVersion()
    {
        var first = await _registry.RegisterAsync(Registration("run-same"), new MemoryStream([1]), CancellationToken.None);
        var again = await _registry.RegisterAsync(Registration("run-same"), new MemoryStream([2]), CancellationToken.None);

        Assert.Equal(first.Version, again.Version);
        Assert.Equal(first.ArtifactSha256, again.ArtifactSha256);
        Assert.Equal(1, (await _registry.GetModelAsync(_name, CancellationToken.None))!.LatestVersion);
    }

    /// <summary>
    /// A registration killed after taking its version number (before its version row was written) gets the same number
    /// when it runs again: no gap in the versions (the crash matrix found version 2 as the only version).
    /// </summary>
    [Fact]
    public async Task Register_RunKilledAfterTakingItsNumber_SameNumberWhenItRunsAgain()
    {
        await _registry.RegisterAsync(Registration("run-1"), new MemoryStream([1]), CancellationToken.None);
        var models = new TableServiceClient(azurite.ConnectionString).GetTableClient("models");
        var row = (await models.GetEntityAsync<TableEntity>("model", _name)).Value;
        row["LatestVersion"] = 2;
        row["LatestRunId"] = "run-killed";
        await models.UpdateEntityAsync(row, row.ETag);

        var again = await _registry.RegisterAsync(Registration("run-killed"), new MemoryStream([2]), CancellationToken.None);
        var next = await _registry.RegisterAsync(Registration("run-3"), new MemoryStream([3]), CancellationToken.None);

        Assert.Equal((2, ModelVersionStatus.Ready), (again.Version, again.Status));
        Assert.Equal(3, next.Version);
    }

    [Fact]
    public async Task Register_ConcurrentRuns_NeverShareAVersionNumber()
    {
        var versions = await Task.WhenAll(Enumerable.Range(1, 8).Select(i =>
            _registry.RegisterAsync(Registration($"run-{i}"), new MemoryStream([(byte)i]), CancellationToken.None)));

        Assert.Equal(Enumerable.Range(1, 8), versions.Select(v => v.Version).Order());
    }

    [Fact]
    public async Task MoveAlias_TwoCallersSawTheSameChampion_OneWinsOneConflicts()
    {
        for (var i = 1; i <= 3; i++)
        {
            await _registry.RegisterAsync(Registration($"run-{i}"), new MemoryStream([(byte)i]), CancellationToken.None);
        }

        await _registry.SetAliasAsync(_name, "champion", 1, CancellationToken.None);
        var race = await Task.WhenAll(
            Attempt(() => _registry.MoveAliasAsync(_name, "champion", 1, 2, CancellationToken.None)),
            Attempt(() => _registry.MoveAliasAsync(_name, "champion", 1, 3, CancellationToken.None)));
        var champion = await _registry.GetByAliasAsync(_name, "champion", CancellationToken.None);

        Assert.Equal(1, race.Count(r => r is null));
        Assert.Single(race, r => r is ModelRegistryConflictException);
        Assert.Contains(champion!.Version, new[] { 2, 3 });
    }

    [Fact]
    public async Task ListVersions_NewestFirst_Paged()
    {
        for (var i = 1; i <= 5; i++)
        {
            await _registry.RegisterAsync(Registration($"run-{i}"), new MemoryStream([(byte)i]), CancellationToken.None);
        }

        var (first, token) = await _registry.ListVersionsAsync(_name, 2, null, CancellationToken.None);
        var (second, _) = await _registry.ListVersionsAsync(_name, 2, token, CancellationToken.None);

        Assert.Equal([5, 4], first.Select(v => v.Version));
        Assert.Equal([3, 2], second.Select(v => v.Version));
    }

    [Fact]
    public async Task SetAlias_StaleETag_PreconditionFailedAndNothingMoved()
    {
        await _registry.RegisterAsync(Registration("run-1"), new MemoryStream([1]), CancellationToken.None);
        await _registry.RegisterAsync(Registration("run-2"), new MemoryStream([2]), CancellationToken.None);
        var read = (await _registry.GetModelAsync(_name, CancellationToken.None))!;
        var moved = await _registry.SetAliasAsync(_name, "staging", 1, read.ETag, CancellationToken.None);

        var stale = await Assert.ThrowsAsync<ModelRegistryPreconditionException>(() => _registry.SetAliasAsync(_name, "staging", 2, read.ETag, CancellationToken.None));
        var deleted = await _registry.DeleteAliasAsync(_name, "staging", moved.ETag, CancellationToken.None);
        var missing = await _registry.DeleteAliasAsync(_name, "staging", null, CancellationToken.None);

        Assert.Contains("changed since you read it", stale.Message, StringComparison.Ordinal);
        Assert.Equal(1, moved.Aliases["staging"]);
        Assert.NotEqual(read.ETag, moved.ETag);
        Assert.False(deleted!.Aliases.ContainsKey("staging"));
        Assert.Null(missing);
        await Assert.ThrowsAsync<ArgumentException>(() => _registry.SetAliasAsync(_name, "v2", 2, CancellationToken.None));
    }

    [Fact]
    public async Task SetTags_ModelAndVersion_SetAndDeleted()
    {
        await _registry.RegisterAsync(Registration("run-1"), new MemoryStream([1]), CancellationToken.None);

        var model = await _registry.SetModelTagAsync(_name, "owner", "ana", CancellationToken.None);
        var version = await _registry.SetVersionTagAsync(_name, 1, "validated", "yes", CancellationToken.None);
        var removed = await _registry.SetModelTagAsync(_name, "team", null, CancellationToken.None);
        var noSuch = await _registry.SetVersionTagAsync(_name, 9, "validated", "yes", CancellationToken.None);

        Assert.Equal(new Dictionary<string, string> { ["team"] = "growth", ["owner"] = "ana" }, model!.Tags);
        Assert.Equal("yes", (await _registry.GetVersionAsync(_name, 1, CancellationToken.None))!.Tags!["validated"]);
        Assert.Equal(ModelVersionStatus.Ready, version!.Status);
        Assert.Equal(["owner"], removed!.Tags.Keys);
        Assert.Null(noSuch);
        await Assert.ThrowsAsync<ArgumentException>(() => _registry.SetModelTagAsync(_name, "long", new string('x', 5001), CancellationToken.None));
    }

    private static async Task<Exception?> Attempt(Func<Task> action)
    {
        try
        {
            await action();
            return null;
        }
        catch (ModelRegistryConflictException ex)
        {
            return ex;
        }
    }

    private ModelRegistration Registration(string runId) => new(
        _name,
        runId,
        "LightGbm",
        new Dictionary<string, double> { ["numberOfLeaves"] = 31 },
        new Dictionary<string, double> { ["auc"] = 0.91 },
        new ModelSignature([new ColumnSchema("age", ColumnKind.Numeric), new ColumnSchema("plan", ColumnKind.Categorical)], "churned", MlTask.BinaryClassification, ["no", "yes"]),
        new FeaturizationPlan("churned", MlTask.BinaryClassification, ["age"], [], [], ["plan"], [], [], ["id"], ["no", "yes"]),
        "snapshot-id",
        "Churn model",
        new Dictionary<string, string> { ["team"] = "growth" });
}

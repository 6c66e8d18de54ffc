using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Serverless.Functions.Tests.EndToEnd;
using Serverless.Pipeline.Tracking;
using Serverless.Testing;

namespace Serverless.Functions.Tests.Api;

/// <summary>
/// The MLflow subset as an MLflow client calls it (the key as <c>Authorization: Bearer</c>), each response checked
/// against MLflow's documented shape (<c>MlflowFixtures/</c>): no field MLflow does not have, no type it does not use.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class MlflowApiTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private readonly string _model = $"mlf-{Guid.NewGuid():N}"[..14];
    private ApiHost _api = null!;
    private HttpClient _mlflow = null!;

    public async Task InitializeAsync()
    {
        _api = await ApiHost.StartAsync(azurite);
        await _api.RegisterAsync(_model, 2, new Dictionary<string, string> { ["team"] = "growth" });
        await _api.Store.Registry.SetAliasAsync(_model, "champion", 2, CancellationToken.None);
        var runs = _api.Store.Runs;
        await runs.StartAsync(_model, $"{_model}-run-2", null, null, new Dictionary<string, double>(), "snapshot", CancellationToken.None);
        await runs.StartAsync(_model, $"{_model}-run-2-t000", $"{_model}-run-2", "LightGbm", new Dictionary<string, double> { ["numberOfLeaves"] = 31 }, "snapshot", CancellationToken.None);
        await runs.EndAsync(_model, $"{_model}-run-2-t000", RunStatus.Completed, new Dictionary<string, double> { ["auc"] = 0.9 }, null, null, CancellationToken.None);
        await runs.EndAsync(_model, $"{_model}-run-2", RunStatus.Completed, new Dictionary<string, double> { ["cv_auc"] = 0.9 }, null, null, CancellationToken.None);
        await _api.Store.RunOutputs.UploadBlobAsync($"{_model}-run-2/trials/0/model.zip", BinaryData.FromBytes([1, 2, 3]));
        _mlflow = new HttpClient { BaseAddress = new Uri(_api.Http.BaseAddress!, "api/2.0/mlflow/") };
        _mlflow.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestFunctionsHost.FunctionKey);
    }

    public async Task DisposeAsync()
    {
        _mlflow.Dispose();
        await _api.DisposeAsync();
    }

    [Fact]
    public async Task RegisteredModelsGet_WithBearerKey_MlflowShape()
    {
        var body = await CallAsync("registered-models-get", HttpMethod.Get, $"registered-models/get?name={_model}");
        var model = body.GetProperty("registered_model");

        Assert.Equal(_model, model.GetProperty("name").GetString());
        Assert.Equal("2", model.GetProperty("latest_versions")[0].GetProperty("version").GetString());
        Assert.Equal("READY", model.GetProperty("latest_versions")[0].GetProperty("status").GetString());
        Assert.Equal("""[{"alias":"champion","version":"2"}]""", model.GetProperty("aliases").GetRawText());
        Assert.Equal("""[{"key":"team","value":"growth"}]""", model.GetProperty("tags").GetRawText());
        Assert.InRange(model.GetProperty("creation_timestamp").GetInt64(), DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task RegistryCalls_SearchVersionsAliasesAndDownloadUri_MlflowShapes()
    {
        var search = await CallAsync("registered-models-search", HttpMethod.Get, $"registered-models/search?filter={Uri.EscapeDataString($"name LIKE '{_model}%'")}");
        var versions = await CallAsync("model-versions-search", HttpMethod.Get, $"model-versions/search?filter={Uri.EscapeDataString($"name='{_model}'")}");
        var version = await CallAsync("model-versions-get", HttpMethod.Get, $"model-versions/get?name={_model}&version=1");
        var uri = await CallAsync("model-versions-get-download-uri", HttpMethod.Get, $"model-versions/get-download-uri?name={_model}&version=1");
        await CallAsync(null, HttpMethod.Post, "registered-models/alias", new { name = _model, alias = "staging", version = "1" });
        var staging = await CallAsync("registered-models-alias-get", HttpMethod.Get, $"registered-models/alias?name={_model}&alias=staging");
        await CallAsync(null, HttpMethod.Delete, "registered-models/alias", new { name = _model, alias = "staging" });
        var missing = await CallAsync("error", HttpMethod.Get, $"registered-models/alias?name={_model}&alias=staging", expected: HttpStatusCode.NotFound);

        Assert.Equal([_model], search.GetProperty("registered_models").EnumerateArray().Select(m => m.GetProperty("name").GetString()));
        Assert.Equal(["2", "1"], versions.GetProperty("model_versions").EnumerateArray().Select(v => v.GetProperty("version").GetString()));
        Assert.Equal(("1", "None", $"{_model}-run-1"), (version.GetProperty("model_version").GetProperty("version").GetString(), version.GetProperty("model_version").GetProperty("current_stage").GetString(), version.GetProperty("model_version").GetProperty("run_id").GetString()));
        Assert.EndsWith($"/api/models/{_model}/versions/1/artifact", uri.GetProperty("artifact_uri").GetString(), StringComparison.Ordinal);
        Assert.Equal(["staging"], staging.GetProperty("model_version").GetProperty("aliases").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal("RESOURCE_DOES_NOT_EXIST", missing.GetProperty("error_code").GetString());
    }

    [Fact]
    public async Task TrackingCalls_ExperimentsRunsAndArtifacts_MlflowShapes()
    {
        var experiment = await CallAsync("experiments-get-by-name", HttpMethod.Get, $"experiments/get-by-name?experiment_name={_model}");
        var experiments = await CallAsync("experiments-search", HttpMethod.Post, "experiments/search", new { filter = $"name = '{_model}'", max_results = 10 });
        var run = await CallAsync("runs-get", HttpMethod.Get, $"runs/get?run_id={_model}-run-2-t000");
        var runs = await CallAsync("runs-search", HttpMethod.Post, "runs/search", new { experiment_ids = new[] { _model }, filter = "metrics.auc > 0.5", order_by = new[] { "metrics.auc DESC" } });
        var artifacts = await CallAsync("artifacts-list", HttpMethod.Get, $"artifacts/list?run_id={_model}-run-2&path=trials/0");
        var bad = await CallAsync("error", HttpMethod.Post, "runs/search", new { experiment_ids = new[] { _model }, filter = "metrics.auc >> 1" }, HttpStatusCode.BadRequest);

        Assert.Equal(_model, experiment.GetProperty("experiment").GetProperty("experiment_id").GetString());
        Assert.Single(experiments.GetProperty("experiments").EnumerateArray());
        var tags = run.GetProperty("run").GetProperty("data").GetProperty("tags").EnumerateArray().ToDictionary(t => t.GetProperty("key").GetString()!, t => t.GetProperty("value").GetString());
        Assert.Equal($"{_model}-run-2", tags["mlflow.parentRunId"]);
        Assert.Equal("FINISHED", run.GetProperty("run").GetProperty("info").GetProperty("status").GetString());
        Assert.Equal("31", run.GetProperty("run").GetProperty("data").GetProperty("params")[0].GetProperty("value").GetString());
        Assert.Equal([$"{_model}-run-2-t000"], runs.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("info").GetProperty("run_id").GetString()));
        Assert.Equal("""[{"path":"trials/0/model.zip","is_dir":false,"file_size":3}]""", artifacts.GetProperty("files").GetRawText());
        Assert.Equal("INVALID_PARAMETER_VALUE", bad.GetProperty("error_code").GetString());
    }

    [Fact]
    public async Task MlflowRoutes_WithoutAKey_401()
    {
        using var plain = new HttpClient { BaseAddress = _mlflow.BaseAddress };
        using var response = await plain.GetAsync($"registered-models/get?name={_model}");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private async Task<JsonElement> CallAsync(string? fixture, HttpMethod method, string route, object? body = null, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var request = new HttpRequestMessage(method, route) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await _mlflow.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {route}: {(int)response.StatusCode} {text}");
        var json = JsonDocument.Parse(text).RootElement.Clone();
        if (fixture is not null)
        {
            var schema = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Api", "MlflowFixtures", $"{fixture}.json"))).RootElement;
            Conforms(json, schema, fixture);
        }

        return json;
    }

    /// <summary>Every field of <paramref name="value"/> is in <paramref name="schema"/>, with its type; nulls stand for absent fields.</summary>
    private static void Conforms(JsonElement value, JsonElement schema, string path)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        switch (schema.ValueKind)
        {
            case JsonValueKind.Object:
                Assert.True(value.ValueKind == JsonValueKind.Object, $"{path}: an object in MLflow, here {value.ValueKind}");
                foreach (var field in value.EnumerateObject())
                {
                    Assert.True(schema.TryGetProperty(field.Name, out var fieldSchema), $"{path}.{field.Name}: not a field of MLflow's object");
                    Conforms(field.Value, fieldSchema, $"{path}.{field.Name}");
                }

                break;
            case JsonValueKind.Array:
                Assert.True(value.ValueKind == JsonValueKind.Array, $"{path}: an array in MLflow, here {value.ValueKind}");
                foreach (var item in value.EnumerateArray())
                {
                    Conforms(item, schema[0], $"{path}[]");
                }

                break;
            default:
                var type = schema.GetString();
                var ok = type switch
                {
                    "string" => value.ValueKind == JsonValueKind.String,
                    "int64" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
                    "double" => value.ValueKind == JsonValueKind.Number,
                    "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
                    _ => false,
                };
                Assert.True(ok, $"{path}: {type} in MLflow, here {value.ValueKind} {value.GetRawText()}");
                break;
        }
    }
}

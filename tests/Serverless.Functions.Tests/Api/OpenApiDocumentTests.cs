using System.Net;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Azure.Functions.Worker;
using Serverless.Functions.Tests.EndToEnd;
using Serverless.Testing;

namespace Serverless.Functions.Tests.Api;

/// <summary>The checked-in OpenAPI document and the app's HTTP functions describe the same routes, and it is served.</summary>
[Collection(AzuriteCollection.Name)]
public sealed partial class OpenApiDocumentTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Document_EveryHttpFunctionOnceAndNothingElse()
    {
        await using var api = await ApiHost.StartAsync(azurite);
        using var response = await api.Http.GetAsync("api/openapi.json");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        var documented = document.RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(op => $"{op.Name.ToUpperInvariant()} {path.Name} {op.Value.GetProperty("operationId").GetString()!.Split('.')[0]}"))
            .Order(StringComparer.Ordinal);
        var functions = typeof(Serverless.Functions.Hosting.ServerlessPipelineExtensions).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods())
            .Select(m => (Function: m.GetCustomAttribute<FunctionAttribute>(), Trigger: m.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).FirstOrDefault(a => a is not null)))
            .Where(f => f.Function is not null && f.Trigger is not null)
            .SelectMany(f => f.Trigger!.Methods!.Select(method => $"{method.ToUpperInvariant()} /api/{RouteParameter().Replace(f.Trigger.Route!, "{$1}")} {f.Function!.Name}"))
            .Order(StringComparer.Ordinal);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("3.0.3", document.RootElement.GetProperty("openapi").GetString());
        Assert.Equal(functions, documented);
    }

    [GeneratedRegex(@"\{\*?([A-Za-z]+)(:[^}]*)?\}")]
    private static partial Regex RouteParameter();
}

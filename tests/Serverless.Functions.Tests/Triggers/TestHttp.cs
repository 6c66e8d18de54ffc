using System.Net;
using System.Text;
using System.Text.Json;
using Azure.Core.Serialization;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Moq;
using Serverless.Functions.Hosting;
using Serverless.Pipeline;
using Serverless.Storage;

namespace Serverless.Functions.Tests.Triggers;

/// <summary>
/// HTTP requests for unit tests of HTTP functions, as the official samples make them: a mocked
/// <see cref="FunctionContext"/> whose services are a real container with the worker's serializer (the app's JSON
/// options), and a mocked <see cref="HttpRequestData"/>, so the real SDK's extension methods run on them.
/// </summary>
internal static class TestHttp
{
    public static HttpRequestData Request(string? body = null, string query = "") => Request(new MemoryStream(Encoding.UTF8.GetBytes(body ?? string.Empty)), query);

    public static HttpRequestData Request(Stream body, string query = "")
    {
        var services = new ServiceCollection();
        services.AddOptions<WorkerOptions>().Configure(o =>
        {
            var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);
            PipelineJson.Apply(json);
            o.Serializer = new JsonObjectSerializer(json);
        });
        services.AddLogging();
        var context = new Mock<FunctionContext>();
        context.SetupProperty(c => c.InstanceServices, services.BuildServiceProvider());
        var request = new Mock<HttpRequestData>(context.Object);
        request.SetupGet(r => r.Body).Returns(body);
        request.SetupGet(r => r.Headers).Returns([]);
        request.SetupGet(r => r.Url).Returns(new Uri("http://localhost:7071/api/test" + query));
        request.SetupGet(r => r.Query).Returns(System.Web.HttpUtility.ParseQueryString(query));
        request.Setup(r => r.CreateResponse()).Returns(() => new Response(context.Object));
        return request.Object;
    }

    /// <summary>The store's clients only: building them calls no storage, and the paths tested with it never reach it.</summary>
    public static PipelineStore Store()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [StorageClientFactory.DefaultConnectionName] = "UseDevelopmentStorage=true" })
            .Build();
        var services = new ServiceCollection();
        services.AddAzureClientsCore();
        var factory = services.BuildServiceProvider().GetRequiredService<AzureComponentFactory>();
        return new PipelineStore(new StorageClientFactory(configuration, factory), TimeProvider.System);
    }

    /// <summary>A response whose body can be read back.</summary>
    public sealed class Response(FunctionContext context) : HttpResponseData(context)
    {
        public override HttpStatusCode StatusCode { get; set; }

        public override HttpHeadersCollection Headers { get; set; } = [];

        public override Stream Body { get; set; } = new MemoryStream();

        public override HttpCookies Cookies => throw new NotSupportedException();

        public JsonDocument ReadJson()
        {
            Body.Position = 0;
            return JsonDocument.Parse(Body);
        }
    }
}

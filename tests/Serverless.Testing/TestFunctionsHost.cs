using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serverless.LocalHost.Hosting;

namespace Serverless.Testing;

/// <summary>The local host running in the test process, serving only the given function classes, on a free port.</summary>
public sealed class TestFunctionsHost : IAsyncDisposable
{
    public const string MasterKey = "test-master-key";
    public const string FunctionKey = "test-function-key";
    public const string DurableKey = "test-durable-key";

    private readonly IHost _host;

    private TestFunctionsHost(IHost host, Uri baseAddress)
    {
        _host = host;
        Http = new HttpClient { BaseAddress = baseAddress };
    }

    /// <summary>A client for the host's HTTP listener.</summary>
    public HttpClient Http { get; }

    public IServiceProvider Services => _host.Services;

    /// <summary>
    /// Builds and starts a host; <paramref name="settings"/> override the defaults (fixed keys, port 0, fast polling);
    /// <paramref name="configure"/> adds services, as an app's Program.cs does.
    /// </summary>
    public static async Task<TestFunctionsHost> StartAsync(
        IEnumerable<Type> functionTypes,
        IDictionary<string, string?>? settings = null,
        Action<LocalFunctionsApplicationBuilder>? configure = null)
    {
        var types = functionTypes.ToList();
        var builder = LocalFunctionsHost.CreateBuilder([], types.FirstOrDefault()?.Assembly ?? typeof(TestFunctionsHost).Assembly);
        var values = new Dictionary<string, string?>
        {
            ["LocalHost:Http:Port"] = "0",
            ["LocalHost:Keys:Master"] = MasterKey,
            ["LocalHost:Keys:Function"] = FunctionKey,
            ["LocalHost:Keys:DurableTaskExtension"] = DurableKey,
            ["LocalHost:Keys:BlobsExtension"] = "test-blobs-key",
            ["LocalHost:Blobs:PollInterval"] = "00:00:00.200",
            ["Logging:LogLevel:Default"] = Environment.GetEnvironmentVariable("TEST_LOG_LEVEL") ?? "Warning",
            ["AzureFunctionsJobHost:logging:logLevel:default"] = Environment.GetEnvironmentVariable("TEST_LOG_LEVEL") ?? "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(values);
        builder.Services.Configure<LocalHostOptions>(options =>
        {
            foreach (var type in types)
            {
                options.FunctionTypes.Add(type);
            }
        });
        configure?.Invoke(builder);

        var host = builder.Build();
        await host.StartAsync();
        return new TestFunctionsHost(host, host.Services.GetRequiredService<LocalHttpEndpoint>().BaseAddress!);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _host.StopAsync();
        _host.Dispose();
    }
}

/// <summary>Waits for a condition that other threads make true, failing with a message when it does not come.</summary>
public static class Eventually
{
    public static async Task<T> PollAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await probe();
            if (condition(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited {timeout.TotalSeconds:0} s for {what}; last value: {value}");
            }

            await Task.Delay(100);
        }
    }

    public static Task<T> WaitForAsync<T>(Func<T> probe, Func<T, bool> condition, TimeSpan timeout, string what) =>
        PollAsync(() => Task.FromResult(probe()), condition, timeout, what);
}

using System.Diagnostics.Metrics;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serverless.LocalHost.Invocation;

namespace Serverless.LocalHost.Hosting;

/// <summary>
/// The local host's builder. Like the worker's <c>FunctionsApplicationBuilder</c> it is both a host builder and an
/// <see cref="IFunctionsWorkerApplicationBuilder"/>, so the middleware an app registers (<c>UseMiddleware&lt;T&gt;()</c>)
/// runs around every local invocation, as it runs in the worker under Core Tools and in Azure.
/// </summary>
public sealed class LocalFunctionsApplicationBuilder : IHostApplicationBuilder, IFunctionsWorkerApplicationBuilder
{
    private readonly HostApplicationBuilder _host;
    private readonly FunctionMiddleware _middleware = new();

    internal LocalFunctionsApplicationBuilder(HostApplicationBuilder host)
    {
        _host = host;
        host.Services.AddSingleton(_middleware);
    }

    /// <inheritdoc cref="HostApplicationBuilder.Configuration"/>
    public ConfigurationManager Configuration => _host.Configuration;

    IConfigurationManager IHostApplicationBuilder.Configuration => _host.Configuration;

    /// <inheritdoc/>
    public IHostEnvironment Environment => _host.Environment;

    /// <inheritdoc/>
    public ILoggingBuilder Logging => _host.Logging;

    /// <inheritdoc/>
    public IMetricsBuilder Metrics => _host.Metrics;

    /// <inheritdoc/>
    public IServiceCollection Services => _host.Services;

    /// <inheritdoc/>
    public IDictionary<object, object> Properties => ((IHostApplicationBuilder)_host).Properties;

    /// <inheritdoc/>
    public void ConfigureContainer<TContainerBuilder>(IServiceProviderFactory<TContainerBuilder> factory, Action<TContainerBuilder>? configure = null)
        where TContainerBuilder : notnull =>
        _host.ConfigureContainer(factory, configure);

    /// <inheritdoc/>
    public IFunctionsWorkerApplicationBuilder Use(Func<FunctionExecutionDelegate, FunctionExecutionDelegate> middleware)
    {
        ArgumentNullException.ThrowIfNull(middleware);
        _middleware.Add(middleware);
        return this;
    }

    /// <summary>Builds the host.</summary>
    public IHost Build() => _host.Build();
}

using Microsoft.Extensions.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serverless.Functions.LocalHost.Hosting;
using Serverless.Functions.LocalHost.Invocation;

namespace Microsoft.Azure.Functions.Worker.Builder;

/// <summary>Entry point of a Functions app.</summary>
public class FunctionsApplication
{
    /// <summary>Creates the application builder.</summary>
    public static FunctionsApplicationBuilder CreateBuilder(string[] args) => new(args);
}

/// <summary>
/// Builds a Functions app. In the local runtime the built host serves the app's functions itself: HTTP on Kestrel,
/// blob triggers over Azurite, NCRONTAB timers. Configuration is read as Core Tools does: <c>host.json</c> under
/// <c>AzureFunctionsJobHost</c>, the <c>Values</c> of <c>local.settings.json</c>, then environment variables.
/// </summary>
public class FunctionsApplicationBuilder : IHostApplicationBuilder, IFunctionsWorkerApplicationBuilder
{
    private readonly HostApplicationBuilder _builder;
    private readonly FunctionMiddleware _middleware = new();
    private bool _built;

    internal FunctionsApplicationBuilder(string[]? args)
    {
        _builder = new HostApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        _builder.Configuration.AddEnvironmentVariables("AZURE_FUNCTIONS_");
        LocalConfiguration.AddFunctionsSources(_builder.Configuration, AppContext.BaseDirectory);
        // Log levels from host.json ("logging": {"logLevel": ...}), as the Functions host applies them; the
        // local HTTP server's per-request chatter stays below the function lines.
        _builder.Logging.AddConfiguration(_builder.Configuration.GetSection($"{LocalConfiguration.HostJsonSection}:logging"));
        _builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        _builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        _builder.Services.AddLocalFunctionsRuntime(_middleware);
    }

    /// <inheritdoc />
    public IDictionary<object, object> Properties => ((IHostApplicationBuilder)_builder).Properties;

    /// <summary>The configuration.</summary>
    public ConfigurationManager Configuration => _builder.Configuration;

    IConfigurationManager IHostApplicationBuilder.Configuration => _builder.Configuration;

    /// <inheritdoc />
    public IHostEnvironment Environment => _builder.Environment;

    /// <inheritdoc />
    public ILoggingBuilder Logging => _builder.Logging;

    /// <inheritdoc />
    public IMetricsBuilder Metrics => _builder.Metrics;

    /// <inheritdoc />
    public IServiceCollection Services => _builder.Services;

    /// <summary>Builds the host. A second call throws, as the SDK's does.</summary>
    public IHost Build()
    {
        if (_built)
        {
            throw new InvalidOperationException("The application has already been built.");
        }

        _built = true;
        return _builder.Build();
    }

    /// <inheritdoc />
    public void ConfigureContainer<TContainerBuilder>(IServiceProviderFactory<TContainerBuilder> factory, Action<TContainerBuilder>? configure = null)
        where TContainerBuilder : notnull =>
        _builder.ConfigureContainer(factory, configure);

    /// <inheritdoc />
    public IFunctionsWorkerApplicationBuilder Use(Func<FunctionExecutionDelegate, FunctionExecutionDelegate> middleware)
    {
        ArgumentNullException.ThrowIfNull(middleware);
        _middleware.Add(middleware);
        return this;
    }
}

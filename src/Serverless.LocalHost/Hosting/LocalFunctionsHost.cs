using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Serverless.LocalHost.Hosting;

/// <summary>
/// Builds the local host of a Functions app, in the role Core Tools plays: configuration read as Core Tools reads it
/// (<c>host.json</c> under <c>AzureFunctionsJobHost</c>, the <c>Values</c> of <c>local.settings.json</c>, then
/// environment variables), the worker's services as <c>AddFunctionsWorkerDefaults</c> registers them (without its gRPC
/// channel), and the trigger listeners. The caller adds the app's own services, as the app's <c>Program.cs</c> does.
/// </summary>
public static class LocalFunctionsHost
{
    /// <summary>A builder for a host that serves the <c>[Function]</c> methods of <paramref name="functions"/>.</summary>
    public static LocalFunctionsApplicationBuilder CreateBuilder(string[] args, Assembly functions)
    {
        ArgumentNullException.ThrowIfNull(functions);
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });

        // As FunctionsApplication.CreateBuilder does: AZURE_FUNCTIONS_ variables are settings too.
        builder.Configuration.AddEnvironmentVariables("AZURE_FUNCTIONS_");
        LocalConfiguration.AddFunctionsSources(builder.Configuration, AppContext.BaseDirectory);

        // Log levels from host.json ("logging": {"logLevel": ...}), as the Functions host applies them; the web
        // server's and the Durable Task Framework's own chatter stays below the function lines.
        builder.Logging.AddConfiguration(builder.Configuration.GetSection($"{LocalConfiguration.HostJsonSection}:logging"));
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("DurableTask", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.DurableTask", LogLevel.Warning);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });

        builder.Services.AddFunctionsWorkerServices();
        builder.Services.AddLocalFunctionsRuntime();
        builder.Services.Configure<LocalHostOptions>(o => o.FunctionAssemblies.Add(functions));
        return new LocalFunctionsApplicationBuilder(builder);
    }
}

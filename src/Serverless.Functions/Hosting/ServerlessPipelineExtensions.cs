using System.Text.Json;
using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Serverless.Pipeline;
using Serverless.Pipeline.Evaluation;
using Serverless.Pipeline.Scoring;
using Serverless.Pipeline.Training;
using Serverless.Storage;

namespace Serverless.Functions.Hosting;

/// <summary>Registers everything the app's functions need, the same way for the local runtime and the real Functions host.</summary>
public static class ServerlessPipelineExtensions
{
    /// <summary>The activity source of the app's own spans.</summary>
    public const string ActivitySourceName = "Serverless.Pipeline";

    /// <summary>
    /// Adds the pipeline's options, storage clients, the ML library's services, health checks, telemetry, and the worker
    /// middleware (a storage outage is a 503).
    /// </summary>
    public static TBuilder AddServerlessPipeline<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder, IFunctionsWorkerApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = ((IHostApplicationBuilder)builder).Services;

        services.AddOptions<PipelineOptions>()
            .BindConfiguration(PipelineOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // camelCase JSON in and out, as most HTTP APIs, and metrics that are not finite kept as "NaN"/"Infinity"; the
        // worker's serializer (HTTP bodies, Durable inputs and outputs) is built from these options on both hosts.
        services.Configure<JsonSerializerOptions>(PipelineJson.Apply);
        services.AddStorageClients();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<PipelineStore>();
        services.AddSingleton<TrialRunner>();
        services.AddSingleton<ModelEvaluator>();
        services.AddSingleton<Serverless.Functions.Scoring.ScoringOutputs>();
        services.AddSingleton(sp => new ModelCache(sp.GetRequiredService<PipelineStore>().Registry, sp.GetRequiredService<IOptions<PipelineOptions>>().Value.ModelCacheCapacity));
        services.AddHealthChecks().AddCheck<StorageHealthCheck>("storage", tags: ["ready"]);
        builder.UseMiddleware<StorageOutageMiddleware>();

        builder.AddServerlessTelemetry();
        return builder;
    }

    private static void AddServerlessTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelemetryOptions>()
            .BindConfiguration(TelemetryOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        var exporter = builder.Configuration[$"{TelemetryOptions.SectionName}:Exporter"]
            ?? (string.IsNullOrEmpty(builder.Configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"]) ? "none" : "azuremonitor");
        if (exporter == "none")
        {
            return;
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("serverless-ml-pipeline"))
            .WithTracing(tracing =>
            {
                tracing.AddSource("Microsoft.Azure.Functions.Worker", ActivitySourceName);
                switch (exporter)
                {
                    case "console":
                        tracing.AddConsoleExporter();
                        break;
                    case "otlp":
                        tracing.AddOtlpExporter();
                        break;
                    case "azuremonitor":
                        tracing.AddAzureMonitorTraceExporter(o =>
                        {
                            o.ConnectionString = builder.Configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"];
                            o.Credential = EntraCredential(builder.Configuration["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]);
                        });
                        break;
                }
            });
    }

    /// <summary>
    /// The credential for Application Insights with local auth off: <c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c> is
    /// <c>ClientId={id};Authorization=AAD</c> for a user-assigned identity (as the Functions host reads it), or
    /// <c>Authorization=AAD</c> for the system-assigned one; null means the connection string's key is used.
    /// </summary>
    internal static TokenCredential? EntraCredential(string? authenticationString)
    {
        if (string.IsNullOrWhiteSpace(authenticationString))
        {
            return null;
        }

        var parts = authenticationString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(part => part.Split('=', 2))
            .Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0].Trim(), pair => pair[1].Trim(), StringComparer.OrdinalIgnoreCase);
        if (!parts.TryGetValue("Authorization", out var authorization) || !string.Equals(authorization, "AAD", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException("APPLICATIONINSIGHTS_AUTHENTICATION_STRING must be 'Authorization=AAD' or 'ClientId={client id};Authorization=AAD'.");
        }

        return parts.TryGetValue("ClientId", out var clientId)
            ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
            : new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned);
    }
}

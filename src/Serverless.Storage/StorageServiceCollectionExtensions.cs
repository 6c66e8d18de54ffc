using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Serverless.Storage;

/// <summary>Registers <see cref="StorageClientFactory"/>.</summary>
public static class StorageServiceCollectionExtensions
{
    /// <summary>Adds the storage client factory and the Azure credential factory it needs (once).</summary>
    public static IServiceCollection AddStorageClients(this IServiceCollection services)
    {
        services.AddAzureClientsCore();
        services.TryAddSingleton<StorageClientFactory>();
        return services;
    }
}

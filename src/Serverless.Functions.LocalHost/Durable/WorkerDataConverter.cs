using Azure.Core.Serialization;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.Extensions.Options;

namespace Serverless.Functions.LocalHost.Durable;

/// <summary>
/// The Durable data converter over the worker's serializer (<see cref="WorkerOptions.Serializer"/>), as the Durable
/// extension for the isolated worker uses, so inputs and outputs look the same here and in Azure.
/// </summary>
internal sealed class WorkerDataConverter(IOptions<WorkerOptions> options) : DataConverter
{
    private readonly ObjectSerializer _serializer = options.Value.Serializer;

    public override string? Serialize(object? value) =>
        value is null ? null : _serializer.Serialize(value, value.GetType(), CancellationToken.None)!.ToString();

    public override object? Deserialize(string? data, Type targetType) =>
        data is null ? null : _serializer.Deserialize(BinaryData.FromString(data).ToStream(), targetType, CancellationToken.None);
}

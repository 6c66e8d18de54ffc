using System.Diagnostics.CodeAnalysis;

namespace Microsoft.DurableTask;

/// <summary>Serializes the data passed to and from orchestrators and activities.</summary>
public abstract class DataConverter
{
    /// <summary>Serializes a value; null gives null.</summary>
    [return: NotNullIfNotNull(nameof(value))]
    public abstract string? Serialize(object? value);

    /// <summary>Deserializes text into <paramref name="targetType"/>; null gives null.</summary>
    [return: NotNullIfNotNull(nameof(data))]
    public abstract object? Deserialize(string? data, Type targetType);

    /// <summary>Deserializes text into <typeparamref name="T"/>.</summary>
    [return: NotNullIfNotNull(nameof(data))]
    public virtual T? Deserialize<T>(string? data) => (T?)(Deserialize(data, typeof(T)) ?? default);
}

/// <summary>A collection of values fetched a page at a time.</summary>
public abstract class AsyncPageable<T> : IAsyncEnumerable<T>
    where T : notnull
{
    /// <summary>The values, a page at a time.</summary>
    public abstract IAsyncEnumerable<Page<T>> AsPages(string? continuationToken = default, int? pageSizeHint = default);

    /// <inheritdoc />
    public async IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        await foreach (var page in AsPages().WithCancellation(cancellationToken))
        {
            foreach (var value in page.Values)
            {
                yield return value;
            }
        }
    }
}

/// <summary>One page of results.</summary>
public sealed class Page<T>(IReadOnlyList<T> values, string? continuationToken = null)
    where T : notnull
{
    /// <summary>The values.</summary>
    public IReadOnlyList<T> Values { get; } = values ?? throw new ArgumentNullException(nameof(values));

    /// <summary>Where the next page starts; null on the last page.</summary>
    public string? ContinuationToken { get; } = continuationToken;
}

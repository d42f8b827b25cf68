using System.IO.MemoryMappedFiles;

namespace AutoGlm.Native;

/// <summary>
/// A whole file mapped read-only into memory: the bytes ONNX Runtime reads weights from, shared through
/// the page cache by every process that maps the same file, and paged in only when touched.
/// </summary>
/// <remarks>Thread-safe to read. Disposing unmaps; every session using the bytes must be disposed first.</remarks>
internal sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private bool _acquired;

    private MappedFile(string path, MemoryMappedFile file, MemoryMappedViewAccessor view, long length)
    {
        Path = path;
        _file = file;
        _view = view;
        Length = length;
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _acquired = true;
        Pointer = pointer + _view.PointerOffset;
    }

    /// <summary>The mapped file.</summary>
    public string Path { get; }

    /// <summary>The file's length in bytes.</summary>
    public long Length { get; }

    /// <summary>The first byte.</summary>
    public byte* Pointer { get; }

    /// <summary>Maps <paramref name="path"/> read-only.</summary>
    /// <exception cref="ModelLoadException">The file is missing, empty or cannot be mapped.</exception>
    public static MappedFile Open(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new ModelLoadException($"The weights file '{info.FullName}' does not exist. Rebuild the model folder with 'autoglm build'.");
        }

        if (info.Length == 0)
        {
            throw new ModelLoadException($"The weights file '{info.FullName}' is empty. Rebuild the model folder with 'autoglm build'.");
        }

        MemoryMappedFile? file = null;
        try
        {
            file = MemoryMappedFile.CreateFromFile(info.FullName, FileMode.Open, mapName: null, capacity: 0, MemoryMappedFileAccess.Read);
            MemoryMappedViewAccessor view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            return new MappedFile(info.FullName, file, view, info.Length);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            file?.Dispose();
            throw new ModelLoadException($"The weights file '{info.FullName}' could not be memory-mapped: {ex.Message}", ex);
        }
    }

    public void Dispose()
    {
        if (_acquired)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _acquired = false;
        }

        _view.Dispose();
        _file.Dispose();
    }
}

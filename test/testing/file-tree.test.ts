import { describe, expect, it } from 'vitest';
import { FakeFileSystemError, FileTree, MAX_POD_BYTES, pathNames } from '../../src/testing/file-tree.ts';

describe('a pod file tree', () => {
  it('starts with the usual top-level directories and the files given', () => {
    const tree = new FileTree({ '/etc/app/config.yaml': 'a: 1\n' });
    expect(tree.list('/')).toEqual(['bin', 'dev', 'etc', 'home', 'proc', 'root', 'tmp', 'usr', 'var']);
    expect(tree.readFile('etc/app/../app/./config.yaml').toString()).toBe('a: 1\n');
    expect(tree.stat('/etc/app')).toMatchObject({ type: 'directory', mode: 0o755 });
    expect(tree.stat('/tmp')?.mode).toBe(0o1777);
  });

  it('never resolves above the root', () => {
    expect(pathNames('/../../etc/./passwd')).toEqual(['etc', 'passwd']);
  });

  it('counts bytes across writes, replacements and removals', () => {
    const tree = new FileTree();
    tree.writeFile('/a/b/c', 'x'.repeat(10));
    tree.writeFile('/a/b/c', 'y'.repeat(4));
    tree.writeFile('/a/d', 'zz');
    expect(tree.bytesUsed).toBe(6);
    tree.remove('/a');
    expect(tree.bytesUsed).toBe(0);
    expect(tree.stat('/a/b/c')).toBeUndefined();
  });

  it.each([
    ['reading a directory', (tree: FileTree) => tree.readFile('/tmp'), 'EISDIR'],
    ['reading a missing file', (tree: FileTree) => tree.readFile('/tmp/nope'), 'ENOENT'],
    ['a path through a file', (tree: FileTree) => tree.writeFile('/tmp/file/inside', 'x'), 'ENOTDIR'],
    ['a directory where a file is', (tree: FileTree) => tree.mkdir('/tmp/file/sub'), 'ENOTDIR'],
    ['replacing a directory with a file', (tree: FileTree) => tree.writeFile('/tmp', 'x'), 'EISDIR'],
    ['listing a file', (tree: FileTree) => tree.list('/tmp/file'), 'ENOTDIR'],
    ['removing what is not there', (tree: FileTree) => tree.remove('/tmp/nope'), 'ENOENT'],
    ['a NUL in a path', (tree: FileTree) => tree.stat('/tmp/a\0b'), 'EINVAL'],
    ['more than the per-pod limit', (tree: FileTree) => tree.writeFile('/tmp/big', Buffer.alloc(MAX_POD_BYTES + 1)), 'ENOSPC'],
  ])('fails %s with %s', (_name, operation, code) => {
    const tree = new FileTree({ '/tmp/file': 'x' });
    expect(() => operation(tree)).toThrow(FakeFileSystemError);
    expect(() => operation(tree)).toThrow(expect.objectContaining({ code }));
  });
});

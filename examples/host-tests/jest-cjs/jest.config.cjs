module.exports = { testEnvironment: 'node', transform: {}, testMatch: ['<rootDir>/*.test.cjs'] };

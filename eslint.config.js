// Lints the APPSYNC_JS resolvers with AppSync's own rules (unsupported syntax, imports, ...).
import appsync from '@aws-appsync/eslint-plugin';

export default [
  {
    files: ['resolvers/**/*.js'],
    ...appsync.configs.recommended,
    languageOptions: {
      ...appsync.configs.recommended.languageOptions,
      parserOptions: {
        ...appsync.configs.recommended.languageOptions?.parserOptions,
        projectService: true,
        tsconfigRootDir: `${import.meta.dirname}/resolvers`,
      },
    },
  },
];
